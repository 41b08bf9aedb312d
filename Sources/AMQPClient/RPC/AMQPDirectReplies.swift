import AMQPProtocol
import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What became of a reply sent with ``AMQPChannel/publishReply(body:to:properties:)``.
public enum AMQPReplyOutcome: Sendable, Equatable {
    /// Published (confirmed by the broker when it went through the reply path).
    case sent
    /// Published on the second try, alone on a fresh reply connection, after the first failed.
    case sentOnRetry
    /// Dropped: the broker closed the reply connection with 541 INTERNAL_ERROR while this reply
    /// alone was on it, which RabbitMQ 3.10 does for a direct reply-to address whose requester's
    /// node is not running. Nobody waits for it any more.
    case requesterGone
}

/// The reply path of a connection: replies to direct reply-to addresses
/// (`amq.rabbitmq.reply-to.…`) go on a connection of their own, so that a reply the broker
/// answers by closing the connection (541 INTERNAL_ERROR, for a requester whose node is gone:
/// ``DirectReplyPolicy``) never takes the consumers of the connection that took the request.
///
/// The reply connection is opened at the first reply, through an ``AMQPConnector`` (the one
/// reconnection mechanism) over the same nodes as its owner, starting with its owner's node (which
/// sees the requesters its consumers took requests from as they do), and
/// opened again at the next reply after it closed. A reply whose publish failed is tried once
/// more, alone (one retry at a time) on a second connection opened after the failure: a 541 then
/// is that reply's, and it is dropped (logged at notice, counted as
/// `amqp.client.replies{outcome=dropped}`); any other failure is thrown. Every wait is bounded:
/// connecting by the reply configuration's connection timeout, the channel and the confirm by
/// its request timeout (each at most ``timeout``), the wait for a retry's turn by twice it.
///
/// Made by its ``AMQPConnection`` (``AMQPConnection/replies``) and closed with it.
public final class AMQPDirectReplies: Sendable {
    /// The longest any one step of a reply waits.
    public let timeout: Duration
    let logger: Logger
    let shared: ReplyLink
    let alone: ReplyLink
    let turns = ReplyTurns()
    let retried = Counter(label: "amqp.client.replies", dimensions: [("outcome", "retried")])
    let dropped = Counter(label: "amqp.client.replies", dimensions: [("outcome", "dropped")])

    init(owner configuration: AMQPConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger, timeout: Duration = .seconds(5)) {
        var configuration = configuration
        let limit = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        configuration.connectionTimeout = min(configuration.connectionTimeout, limit)
        configuration.requestTimeout = min(configuration.requestTimeout, limit)
        configuration.connectionName = (configuration.connectionName ?? "warren") + " replies"
        self.timeout = timeout
        self.logger = logger
        self.shared = ReplyLink(AMQPConnector(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, start: 0))
        self.alone = ReplyLink(AMQPConnector(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, start: 0))
    }

    /// Publishes `body` to the direct reply-to address `replyTo` on the default exchange.
    ///
    /// - Returns: ``AMQPReplyOutcome/sent``, ``AMQPReplyOutcome/sentOnRetry`` or
    ///   ``AMQPReplyOutcome/requesterGone``.
    /// - Throws: ``AMQPError``: the broker refused the publish itself (it would again), or the
    ///   retry failed otherwise than with the 541 (e.g. no node answered).
    public func send(body: ByteBuffer, to replyTo: String, properties: BasicProperties) async throws -> AMQPReplyOutcome {
        let first: AMQPError
        do {
            try await self.shared.publish(body: body, to: replyTo, properties: properties, freshAfter: nil)
            return .sent
        } catch let error as AMQPError {
            first = error
        }
        let failedAt = ContinuousClock.now
        guard DirectReplyPolicy.afterShared(first) == .retryAlone else { throw first }
        self.logger.info(
            "reply failed on the reply connection; trying it once more alone",
            metadata: ["amqp.reply_to": "\(replyTo)", "error": "\(first)"]
        )
        try await self.turns.begin(within: self.timeout * 2)
        defer { self.turns.end() }
        do {
            try await self.alone.publish(body: body, to: replyTo, properties: properties, freshAfter: failedAt)
            self.retried.increment()
            return .sentOnRetry
        } catch let error as AMQPError {
            guard DirectReplyPolicy.afterAlone(error) == .drop else { throw error }
            self.dropped.increment()
            self.logger.notice(
                "reply dropped: the broker closed the connection (541) for it alone, as RabbitMQ 3.10 does when the requester's node is not running",
                metadata: ["amqp.reply_to": "\(replyTo)", "error": "\(error)"]
            )
            return .requesterGone
        }
    }

    /// Closes both reply connections; a reply in flight fails.
    public func close() async {
        await self.shared.close()
        await self.alone.close()
    }
}

/// One connection, opened when first needed and again after it went, with one channel in
/// confirm mode, for ``AMQPDirectReplies``.
final class ReplyLink: Sendable {
    struct Open: Sendable {
        let connection: AMQPConnection
        let channel: AMQPChannel
        let openedAt: ContinuousClock.Instant
    }

    private struct State {
        var open: Open?
        var opening: Task<Open, any Error>?
        var closed = false
        /// Whether the last connection was lost otherwise than by a 541 (the node may be gone:
        /// the next one starts at the next node).
        var lost = false
    }

    let connector: AMQPConnector
    private let state = NIOLockedValueBox(State())

    init(_ connector: AMQPConnector) {
        self.connector = connector
    }

    /// Publishes on the link's channel, opening it first when needed (with `freshAfter`: a
    /// connection opened after that instant). A failed publish retires the connection.
    func publish(body: ByteBuffer, to replyTo: String, properties: BasicProperties, freshAfter: ContinuousClock.Instant?) async throws {
        let open = try await self.open(freshAfter: freshAfter)
        do {
            try await open.channel.publish(body: body, routingKey: replyTo, properties: properties)
        } catch let error as AMQPError {
            self.retire(open, lost: !DirectReplyPolicy.isInternalErrorClose(error))
            throw error
        }
    }

    private enum Step {
        case ready(Open)
        case wait(Task<Open, any Error>)
        case closed
    }

    func open(freshAfter: ContinuousClock.Instant?) async throws -> Open {
        let step = self.state.withLockedValue { state -> Step in
            if state.closed { return .closed }
            if let open = state.open, open.connection.isActive,
                freshAfter.map({ DirectReplyPolicy.mayCarryRetry(openedAt: open.openedAt, failedAt: $0) }) ?? true
            {
                return .ready(open)
            }
            if let opening = state.opening { return .wait(opening) }
            if let stale = state.open {
                state.open = nil
                Task { try? await stale.connection.close() }
            }
            if state.lost {
                state.lost = false
                self.connector.connectionLost()
            }
            let opening = Task { try await self.connect() }
            state.opening = opening
            return .wait(opening)
        }
        switch step {
        case .ready(let open):
            return open
        case .closed:
            throw AMQPError.connectionClosed("the reply path is closed")
        case .wait(let opening):
            // A connection opened for an earlier failure may be older than this one's: ask again.
            let open = try await opening.value
            if let freshAfter, !DirectReplyPolicy.mayCarryRetry(openedAt: open.openedAt, failedAt: freshAfter) {
                return try await self.open(freshAfter: freshAfter)
            }
            return open
        }
    }

    private func connect() async throws -> Open {
        let result: Result<Open, any Error>
        do {
            let connection = try await self.connector.connectOnce()
            do {
                let channel = try await connection.openChannel()
                try await channel.confirmSelect()
                result = .success(Open(connection: connection, channel: channel, openedAt: .now))
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            result = .failure(error)
        }
        let keep = self.state.withLockedValue { state -> Bool in
            state.opening = nil
            guard !state.closed, case .success(let open) = result else { return false }
            state.open = open
            return true
        }
        if !keep, case .success(let open) = result { try? await open.connection.close() }
        if case .failure = result { self.state.withLockedValue { $0.lost = true } }
        return try result.get()
    }

    /// Stops using `open` (when it is still the link's connection) and closes it.
    private func retire(_ open: Open, lost: Bool) {
        let current = self.state.withLockedValue { state -> Bool in
            guard state.open?.connection === open.connection else { return false }
            state.open = nil
            state.lost = lost
            return true
        }
        if current { Task { try? await open.connection.close() } }
    }

    func close() async {
        let (open, opening) = self.state.withLockedValue { state in
            state.closed = true
            defer { state.open = nil }
            return (state.open, state.opening)
        }
        opening?.cancel()
        try? await open?.connection.close()
    }
}

extension AMQPChannel {
    /// Publishes a reply to a request's `reply_to` on the default exchange.
    ///
    /// A direct reply-to address (`amq.rabbitmq.reply-to.…`) goes through the connection's
    /// reply path (``AMQPConnection/replies``, a connection of its own), never on this channel:
    /// RabbitMQ 3.10 closes the connection a reply to a requester whose node is gone was
    /// published on (541), and this channel's connection is the one whose consumers took the
    /// request. Any other address (a queue: a STOMP `/temp-queue/`, a named reply queue) is
    /// published on this channel as ``publish(body:exchange:routingKey:mandatory:properties:)``.
    ///
    /// - Returns: What became of the reply (``AMQPReplyOutcome/requesterGone``: dropped).
    /// - Throws: ``AMQPError``, as ``AMQPDirectReplies/send(body:to:properties:)`` or the publish.
    @discardableResult
    public func publishReply(body: ByteBuffer, to replyTo: String, properties: BasicProperties) async throws -> AMQPReplyOutcome {
        guard DirectReplyPolicy.isDirect(replyTo) else {
            try await self.publish(body: body, routingKey: replyTo, properties: properties)
            return .sent
        }
        return try await self.connection.replies.send(body: body, to: replyTo, properties: properties)
    }
}
