import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection that comes back: when the broker or the network drops it, ``run()``
/// reconnects with exponential backoff and jitter, re-declares the topology declared through
/// it, reopens its channels (re-applying qos and confirm mode) and restarts their consumers,
/// which go on under the same async sequence.
///
/// It reconnects through an ``AMQPConnector``, the one reconnection mechanism (Warren's services
/// use it too): with several nodes (``AMQPConfiguration/failoverEndpoints``) it moves to the next
/// node after a loss, waiting as ``AMQPRecoveryPolicy/delay(attempt:random:)`` says.
///
/// Call ``run()`` in a task of its own (or a service group); it returns after ``close()``.
/// Operations during an outage wait for the connection to come back, up to the policy's
/// `operationTimeout`. Delivery is at-least-once: a publish that was in flight when the
/// connection dropped is sent again, and unacknowledged deliveries come again, marked
/// redelivered.
///
/// A server-named queue (declared as "") is declared again on recovery when it is gone (always
/// so for an exclusive one) and then has a new name: its bindings and consumers move to the new
/// name, ``queueRenames`` tells, and ``currentQueueName(_:)`` maps any earlier name to it (use it
/// for a `reply-to` or a publish to the queue).
public final class AMQPRecoveringConnection: Sendable {
    /// The configuration each connection attempt uses.
    public let configuration: AMQPConfiguration
    /// The reconnection policy.
    public let policy: AMQPRecoveryPolicy
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let connector: AMQPConnector
    let clock: RecoveryClock
    let random: @Sendable () -> Double
    let state: NIOLockedValueBox<State>
    /// Server-named queues that got a new name in a recovery, oldest first. Keeps the newest 64
    /// when nobody reads it; ends with ``close()``.
    public let queueRenames: AsyncStream<AMQPQueueRename>
    private let renamesContinuation: AsyncStream<AMQPQueueRename>.Continuation

    typealias TopologyStep = RecoveryTopology.Step

    struct State {
        var connection: AMQPConnection?
        var generation = 0
        var closed = false
        var topology = RecoveryTopology()
        var channels: [ObjectIdentifier: AMQPRecoveringChannel] = [:]
    }

    private init(
        configuration: AMQPConfiguration,
        policy: AMQPRecoveryPolicy,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        connector: AMQPConnector,
        clock: RecoveryClock,
        random: @escaping @Sendable () -> Double,
        connection: AMQPConnection
    ) {
        self.configuration = configuration
        self.policy = policy
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.connector = connector
        self.clock = clock
        self.random = random
        var state = State()
        state.connection = connection
        state.generation = 1
        self.state = NIOLockedValueBox(state)
        (self.queueRenames, self.renamesContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    /// Connects for the first time, to any node; a failure here is thrown, not retried.
    ///
    /// - Parameters:
    ///   - configuration: Where to connect.
    ///   - policy: How to reconnect later.
    ///   - eventLoopGroup: The group connections run on.
    ///   - logger: The logger.
    ///   - clock: The clock backoff sleeps on (inject one in tests).
    ///   - random: A source of values in 0...1 for jitter.
    public static func connect(
        configuration: AMQPConfiguration,
        policy: AMQPRecoveryPolicy = AMQPRecoveryPolicy(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "warren.amqp"),
        clock: some Clock<Duration> = ContinuousClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) async throws -> AMQPRecoveringConnection {
        let connector = AMQPConnector(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        let connection = try await connector.connectOnce()
        return AMQPRecoveringConnection(
            configuration: configuration,
            policy: policy,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            connector: connector,
            clock: RecoveryClock(clock),
            random: random,
            connection: connection
        )
    }

    /// How many connections have been made so far (1 before any recovery).
    public var generation: Int {
        self.state.withLockedValue { $0.generation }
    }

    /// The current connection, nil during an outage.
    public var currentConnection: AMQPConnection? {
        self.state.withLockedValue { $0.connection }
    }

    /// Watches the connection and recovers it whenever it drops; returns after ``close()``.
    public func run() async throws {
        while true {
            guard let connection = self.state.withLockedValue({ $0.closed ? nil : $0.connection }) else { return }
            let reason = await connection.closeReason()
            let closed = self.state.withLockedValue { state in
                if state.connection === connection { state.connection = nil }
                return state.closed
            }
            if closed { return }
            self.logger.warning("connection lost; recovering", metadata: ["error": "\(reason.map { "\($0)" } ?? "clean close")"])
            try await self.recover()
        }
    }

    private func recover() async throws {
        self.connector.connectionLost()
        var attempt = 0
        while !self.state.withLockedValue({ $0.closed }) {
            let connection: AMQPConnection
            do {
                let made = try await self.connector.reconnect(
                    policy: self.policy,
                    attempt: attempt,
                    random: self.random,
                    sleep: self.clock.sleep,
                    isStopped: { self.state.withLockedValue { $0.closed } },
                    failed: { round, error in
                        self.logger.warning("recovery attempt failed", metadata: ["amqp.attempt": "\(attempt + round)", "error": "\(error)"])
                    }
                )
                connection = made.connection
                attempt += made.rounds
            } catch is CancellationError {
                return
            }
            do {
                try await self.restore(on: connection)
                let stillWanted = self.state.withLockedValue { state -> Bool in
                    guard !state.closed else { return false }
                    state.connection = connection
                    state.generation += 1
                    return true
                }
                if !stillWanted { try? await connection.close() }
                self.logger.info("connection recovered", metadata: ["amqp.attempts": "\(attempt)", "amqp.host": "\(connection.configuration.host):\(connection.configuration.port)"])
                return
            } catch {
                self.logger.warning("recovery attempt failed", metadata: ["amqp.attempt": "\(attempt)", "error": "\(error)"])
                try? await connection.close()
                self.connector.connectionLost()
            }
        }
    }

    /// Re-declares the topology and reopens every channel on a fresh connection.
    private func restore(on connection: AMQPConnection) async throws {
        let (isEmpty, channels) = self.state.withLockedValue { ($0.topology.isEmpty, Array($0.channels.values)) }
        if !isEmpty {
            var channel = try await connection.openChannel()
            // Step by step from the live record: a renamed queue's later bindings use its new name.
            var index = 0
            while let step = self.state.withLockedValue({ index < $0.topology.steps.count ? $0.topology.steps[index] : nil }) {
                index += 1
                guard case .queue(let name, true, let durable, let exclusive, let autoDelete, let arguments) = step else {
                    try await Self.apply(step, on: channel)
                    continue
                }
                // A server-named queue that is not exclusive may have outlived the connection.
                if !exclusive {
                    do {
                        _ = try await channel.queueDeclare(name, passive: true)
                        continue
                    } catch let error as AMQPError where error.isConnectionLoss {
                        throw error
                    } catch {
                        // Gone (404 closed the channel): declare it anew on a fresh channel.
                        try? await channel.close()
                        channel = try await connection.openChannel()
                    }
                }
                let declared = try await channel.queueDeclare("", durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments)
                self.queueRenamed(from: name, to: declared.queue)
            }
            try await channel.close()
        }
        for channel in channels {
            try await channel.reopen(on: connection)
        }
    }

    /// Moves the record, the consumers and the application to a server-named queue's new name.
    private func queueRenamed(from old: String, to new: String) {
        let channels = self.state.withLockedValue { state in
            state.topology.queueRenamed(from: old, to: new)
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.queueRenamed(from: old, to: new)
        }
        self.logger.info("server-named queue declared again under a new name", metadata: ["amqp.queue": "\(old)", "amqp.new_queue": "\(new)"])
        self.renamesContinuation.yield(AMQPQueueRename(oldName: old, newName: new))
    }

    /// The name a queue has now: `name` itself, unless it is an earlier name of a server-named
    /// queue that recovery declared again, then its latest name.
    public func currentQueueName(_ name: String) -> String {
        self.state.withLockedValue { $0.topology.currentName(of: name) }
    }

    static func apply(_ step: TopologyStep, on channel: AMQPChannel) async throws {
        switch step {
        case .exchange(let name, let type, let durable, let autoDelete, let `internal`, let arguments):
            try await channel.exchangeDeclare(name, type: type, durable: durable, autoDelete: autoDelete, internal: `internal`, arguments: arguments)
        case .queue(let name, _, let durable, let exclusive, let autoDelete, let arguments):
            // A server-named queue is declared by restore(on:); here it is declared by name.
            try await channel.queueDeclare(name, durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments)
        case .queueBinding(let queue, let exchange, let routingKey, let arguments):
            try await channel.queueBind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        case .exchangeBinding(let destination, let source, let routingKey, let arguments):
            try await channel.exchangeBind(destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        }
    }

    func record(_ step: TopologyStep) {
        self.state.withLockedValue { $0.topology.record(step) }
    }

    func forgetQueue(_ name: String) {
        self.state.withLockedValue { $0.topology.forgetQueue(name) }
    }

    func forget(channel: AMQPRecoveringChannel) {
        _ = self.state.withLockedValue { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Waits for a live connection, up to the policy's operation timeout.
    func awaitConnection() async throws -> AMQPConnection {
        let deadline = self.clock.now() + (self.policy.operationTimeout)
        while true {
            let (connection, closed) = self.state.withLockedValue { ($0.connection, $0.closed) }
            if closed { throw AMQPError.connectionClosed("the recovering connection was closed") }
            if let connection, connection.isActive { return connection }
            guard self.clock.now() < deadline else {
                throw AMQPError(code: .timeout, message: "the connection did not come back within \(self.policy.operationTimeout)")
            }
            try await self.clock.sleep(.milliseconds(20))
        }
    }

    /// Opens a channel that is reopened after each recovery.
    public func openChannel() async throws -> AMQPRecoveringChannel {
        let connection = try await self.awaitConnection()
        let channel = AMQPRecoveringChannel(owner: self, channel: try await connection.openChannel())
        self.state.withLockedValue { $0.channels[ObjectIdentifier(channel)] = channel }
        return channel
    }

    /// Stops recovering and closes the connection; consumers end.
    public func close() async throws {
        let connection = self.state.withLockedValue { state -> AMQPConnection? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        self.renamesContinuation.finish()
        try await connection?.close()
    }
}

/// A server-named queue that recovery declared again: the broker gave it a new name.
public struct AMQPQueueRename: Sendable, Equatable {
    /// The name it had before the recovery.
    public var oldName: String
    /// The name it has now; its bindings and consumers moved to it.
    public var newName: String
}

extension AMQPError {
    /// Whether the error means the connection (not just a channel) went away, so recovery applies.
    var isConnectionLoss: Bool {
        switch self.code {
        case .connectionClosed, .heartbeatTimeout, .connectionFailed: true
        default: self.replyCode == ReplyCode.connectionForced.rawValue
        }
    }
}
