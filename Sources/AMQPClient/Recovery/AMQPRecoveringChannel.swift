import AMQPProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A channel of an ``AMQPRecoveringConnection``: reopened after each recovery with its qos,
/// confirm mode and consumers. Topology declared through it is recorded and re-declared.
public final class AMQPRecoveringChannel: Sendable {
    let owner: AMQPRecoveringConnection
    private let state: NIOLockedValueBox<State>

    struct State {
        var channel: AMQPChannel
        var qos: (prefetchCount: UInt16, global: Bool)?
        var confirms = false
        var consumers: [ObjectIdentifier: AMQPRecoveringConsumer.Record] = [:]
        var closed = false
        /// Nacks in a row on the current channel.
        var nackRun: NackRun
        /// A publish is replacing the channel after a run of nacks.
        var replacing = false
    }

    init(owner: AMQPRecoveringConnection, channel: AMQPChannel) {
        self.owner = owner
        self.state = NIOLockedValueBox(State(channel: channel, nackRun: NackRun(limit: owner.policy.nackRunLimit)))
    }

    /// The channel in use now; it changes with each recovery.
    public var currentChannel: AMQPChannel {
        self.state.withLockedValue { $0.channel }
    }

    /// Runs `body` on the current channel; when the connection drops meanwhile, waits for
    /// recovery and runs it again (at-least-once), up to the policy's operation timeout.
    func withChannel<T: Sendable>(_ body: (AMQPChannel) async throws -> T) async throws -> T {
        let deadline = self.owner.clock.now() + (self.owner.policy.operationTimeout)
        while true {
            _ = try await self.owner.awaitConnection()
            let (channel, closed) = self.state.withLockedValue { ($0.channel, $0.closed) }
            if closed { throw AMQPError.channelClosed(channel.id) }
            do {
                return try await body(channel)
            } catch let error as AMQPError where error.isConnectionLoss && self.owner.clock.now() < deadline {
                // Wait until recovery has swapped in a new channel.
                while self.state.withLockedValue({ $0.channel === channel && !$0.closed }) {
                    guard self.owner.clock.now() < deadline else { throw error }
                    try await self.owner.clock.sleep(.milliseconds(20))
                }
            }
        }
    }

    /// Opens the replacement channel on a recovered connection and restores its settings and consumers.
    func reopen(on connection: AMQPConnection) async throws {
        let channel = try await connection.openChannel()
        let (qos, confirms, consumers) = self.state.withLockedValue { ($0.qos, $0.confirms, Array($0.consumers.values)) }
        if let qos { try await channel.basicQos(prefetchCount: qos.prefetchCount, global: qos.global) }
        if confirms { try await channel.confirmSelect() }
        for record in consumers {
            try await record.restart(on: channel)
        }
        self.state.withLockedValue { state in
            state.channel = channel
            state.nackRun = NackRun(limit: self.owner.policy.nackRunLimit)
        }
    }

    /// Publishes a message; see ``AMQPChannel/publish(body:exchange:routingKey:mandatory:properties:)``.
    /// During an outage it waits for the connection to come back.
    ///
    /// In confirm mode, the publish that completes a run of the policy's `nackRunLimit` nacks
    /// in a row reopens the channel (with its qos and consumers; their unacknowledged
    /// deliveries come again) and is sent once more on the new channel; other nacks throw
    /// `publishNacked`.
    public func publish(
        body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) async throws {
        var resent = false
        while true {
            let outcome: PublishOutcome = try await self.withChannel { channel in
                do {
                    try await channel.publish(body: body, exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties)
                    return .published(channel)
                } catch let error as AMQPError where error.code == .publishNacked {
                    return .nacked(channel, error)
                }
            }
            switch outcome {
            case .published(let channel):
                self.state.withLockedValue { if $0.channel === channel { $0.nackRun.acked() } }
                return
            case .nacked(let channel, let error):
                guard !resent else { throw error }
                resent = true
                switch self.nackDecision(for: channel) {
                case .fail:
                    throw error
                case .resend:
                    continue
                case .waitForReplacement:
                    try await self.waitWhileReplacing(channel)
                case .replace:
                    self.owner.logger.warning(
                        "the broker nacked \(self.owner.policy.nackRunLimit) publishes in a row: reopening the channel and publishing again",
                        metadata: ["amqp.channel": "\(channel.id)", "amqp.routing_key": "\(routingKey)"]
                    )
                    try await self.replace(channel)
                }
            }
        }
    }

    private enum PublishOutcome: Sendable {
        case published(AMQPChannel)
        case nacked(AMQPChannel, AMQPError)
    }

    private enum NackDecision {
        /// A nack, but no run (yet): the caller gets it.
        case fail
        /// The channel was replaced since: publish again on the new one.
        case resend
        /// Another publish is replacing the channel: wait, then publish again.
        case waitForReplacement
        /// This nack completed a run: replace the channel, then publish again.
        case replace
    }

    private func nackDecision(for channel: AMQPChannel) -> NackDecision {
        self.state.withLockedValue { state in
            if state.channel !== channel { return .resend }
            if state.replacing { return .waitForReplacement }
            guard state.nackRun.nacked() else { return .fail }
            state.replacing = true
            return .replace
        }
    }

    /// Opens a new channel in place of `old` (qos, confirm mode, consumers), then closes `old`.
    /// A connection loss meanwhile is left to recovery, which reopens the channel anyway.
    private func replace(_ old: AMQPChannel) async throws {
        do {
            try await self.reopen(on: old.connection)
            self.state.withLockedValue { $0.replacing = false }
        } catch let error as AMQPError where error.isConnectionLoss {
            self.state.withLockedValue { $0.replacing = false }
            return
        } catch {
            self.state.withLockedValue { $0.replacing = false }
            throw error
        }
        try? await old.close()
    }

    private func waitWhileReplacing(_ channel: AMQPChannel) async throws {
        let deadline = self.owner.clock.now() + self.owner.policy.operationTimeout
        while self.state.withLockedValue({ $0.channel === channel && $0.replacing }) {
            guard self.owner.clock.now() < deadline else {
                throw AMQPError(code: .timeout, message: "the channel was not reopened within \(self.owner.policy.operationTimeout)")
            }
            try await self.owner.clock.sleep(.milliseconds(20))
        }
    }

    /// Sets the prefetch window, now and after each recovery.
    public func basicQos(prefetchCount: UInt16, global: Bool = false) async throws {
        try await self.withChannel { try await $0.basicQos(prefetchCount: prefetchCount, global: global) }
        self.state.withLockedValue { $0.qos = (prefetchCount, global) }
    }

    /// Puts the channel in confirm mode, now and after each recovery.
    public func confirmSelect() async throws {
        try await self.withChannel { try await $0.confirmSelect() }
        self.state.withLockedValue { $0.confirms = true }
    }

    /// Declares an exchange and records it for recovery.
    public func exchangeDeclare(
        _ name: String,
        type: String = "direct",
        durable: Bool = false,
        autoDelete: Bool = false,
        internal: Bool = false,
        arguments: FieldTable = [:]
    ) async throws {
        let step = AMQPRecoveringConnection.TopologyStep.exchange(
            name: name, type: type, durable: durable, autoDelete: autoDelete, internal: `internal`, arguments: arguments
        )
        try await self.withChannel { try await AMQPRecoveringConnection.apply(step, on: $0) }
        self.owner.record(step)
    }

    /// Declares a queue and records it for recovery. For "" the broker names the queue; after
    /// a recovery that declared it again its name is
    /// ``AMQPRecoveringConnection/currentQueueName(_:)`` of the name returned here.
    @discardableResult
    public func queueDeclare(
        _ name: String,
        durable: Bool = false,
        exclusive: Bool = false,
        autoDelete: Bool = false,
        arguments: FieldTable = [:]
    ) async throws -> AMQPQueueDeclareResult {
        let result = try await self.withChannel {
            try await $0.queueDeclare(name, durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments)
        }
        let serverNamed = name.isEmpty
        self.owner.record(
            .queue(name: serverNamed ? result.queue : name, serverNamed: serverNamed, durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments)
        )
        return result
    }

    /// Binds a queue to an exchange and records the binding for recovery.
    public func queueBind(queue: String, exchange: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let queue = self.owner.currentQueueName(queue)
        let step = AMQPRecoveringConnection.TopologyStep.queueBinding(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        try await self.withChannel { try await AMQPRecoveringConnection.apply(step, on: $0) }
        self.owner.record(step)
    }

    /// Binds an exchange to an exchange and records the binding for recovery.
    public func exchangeBind(destination: String, source: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let step = AMQPRecoveringConnection.TopologyStep.exchangeBinding(
            destination: destination, source: source, routingKey: routingKey, arguments: arguments
        )
        try await self.withChannel { try await AMQPRecoveringConnection.apply(step, on: $0) }
        self.owner.record(step)
    }

    /// Deletes a queue and forgets it (and its bindings) for recovery.
    @discardableResult
    public func queueDelete(_ name: String) async throws -> UInt32 {
        let name = self.owner.currentQueueName(name)
        let count = try await self.withChannel { try await $0.queueDelete(name) }
        self.owner.forgetQueue(name)
        return count
    }

    /// Starts a consumer that survives recoveries: its sequence goes on over the new channel.
    public func consume(queue: String, tag: String = "", noAck: Bool = false, exclusive: Bool = false, arguments: FieldTable = [:]) async throws -> AMQPRecoveringConsumer {
        let queue = self.owner.currentQueueName(queue)
        let record = AMQPRecoveringConsumer.Record(queue: queue, tag: tag, noAck: noAck, exclusive: exclusive, arguments: arguments, owner: self.owner)
        try await self.withChannel { try await record.restart(on: $0) }
        self.state.withLockedValue { $0.consumers[ObjectIdentifier(record)] = record }
        return AMQPRecoveringConsumer(record: record, channel: self)
    }

    /// Moves this channel's consumers of a server-named queue to its new name.
    func queueRenamed(from old: String, to new: String) {
        let records = self.state.withLockedValue { Array($0.consumers.values) }
        for record in records {
            record.queue.withLockedValue { if $0 == old { $0 = new } }
        }
    }

    func forget(consumer record: AMQPRecoveringConsumer.Record) {
        _ = self.state.withLockedValue { $0.consumers.removeValue(forKey: ObjectIdentifier(record)) }
    }

    /// Closes the channel for good.
    public func close() async throws {
        let channel = self.state.withLockedValue { state in
            state.closed = true
            return state.channel
        }
        self.owner.forget(channel: self)
        try await channel.close()
    }
}

/// A consumer of an ``AMQPRecoveringChannel``: one async sequence across recoveries.
///
/// It ends normally after ``cancel()``, throws `consumerCancelled` when the broker cancels it,
/// and throws the connection's error only once the recovering connection is closed or the
/// connection stays away longer than the operation timeout.
public struct AMQPRecoveringConsumer: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = AMQPDelivery

    final class Record: Sendable {
        /// The queue; a server-named one's changes when recovery declares it again.
        let queue: NIOLockedValueBox<String>
        let tag: String
        let noAck: Bool
        let exclusive: Bool
        let arguments: FieldTable
        let owner: AMQPRecoveringConnection
        let current = NIOLockedValueBox<(consumer: AMQPConsumer?, generation: Int, cancelled: Bool)>((nil, 0, false))

        init(queue: String, tag: String, noAck: Bool, exclusive: Bool, arguments: FieldTable, owner: AMQPRecoveringConnection) {
            self.queue = NIOLockedValueBox(queue)
            self.tag = tag
            self.noAck = noAck
            self.exclusive = exclusive
            self.arguments = arguments
            self.owner = owner
        }

        func restart(on channel: AMQPChannel) async throws {
            let consumer = try await channel.consume(queue: self.queue.withLockedValue { $0 }, tag: self.tag, noAck: self.noAck, exclusive: self.exclusive, arguments: self.arguments)
            self.current.withLockedValue { $0 = (consumer, $0.generation + 1, $0.cancelled) }
        }

        /// Waits for a consumer newer than `generation`.
        func consumer(after generation: Int) async throws -> (AMQPConsumer, Int)? {
            let deadline = self.owner.clock.now() + (self.owner.policy.operationTimeout)
            while true {
                let (consumer, current, cancelled) = self.current.withLockedValue { $0 }
                if cancelled { return nil }
                if let consumer, current > generation { return (consumer, current) }
                _ = try await self.owner.awaitConnection()
                guard self.owner.clock.now() < deadline else {
                    throw AMQPError(code: .timeout, message: "the consumer did not come back within \(self.owner.policy.operationTimeout)")
                }
                try await self.owner.clock.sleep(.milliseconds(20))
            }
        }
    }

    let record: Record
    /// The channel the consumer belongs to.
    public let channel: AMQPRecoveringChannel

    /// Cancels the consumer for good.
    public func cancel() async throws {
        let consumer = self.record.current.withLockedValue { state -> AMQPConsumer? in
            state.cancelled = true
            return state.consumer
        }
        self.channel.forget(consumer: self.record)
        try await consumer?.cancel()
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(record: self.record)
    }

    /// Iterates deliveries across recoveries.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let record: Record
        var generation = 0
        var base: AMQPConsumer.AsyncIterator?

        /// The next delivery, nil once the consumer was cancelled.
        public mutating func next() async throws -> AMQPDelivery? {
            while true {
                if self.base == nil {
                    guard let (consumer, generation) = try await self.record.consumer(after: self.generation) else { return nil }
                    self.generation = generation
                    self.base = consumer.makeAsyncIterator()
                }
                do {
                    if let delivery = try await self.base!.next() { return delivery }
                    // The base ended cleanly: cancelled for good, or its channel was replaced
                    // (after a run of nacks) and a newer consumer goes on.
                    let generation = self.generation
                    guard self.record.current.withLockedValue({ !$0.cancelled && $0.generation > generation }) else { return nil }
                    self.base = nil
                } catch let error as AMQPError where error.isConnectionLoss {
                    self.base = nil  // wait for the consumer recovery starts on the new connection
                }
            }
        }
    }
}
