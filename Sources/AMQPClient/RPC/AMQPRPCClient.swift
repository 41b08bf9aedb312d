import AMQPProtocol
import Atomics
import NIOConcurrencyHelpers
import NIOCore

/// Request/reply over RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`).
///
/// One client owns one channel: it consumes `amq.rabbitmq.reply-to` (no-ack, as RabbitMQ
/// requires) and then publishes requests with `reply_to` set and a fresh correlation id. Many
/// calls may be in flight at once; each has its own timeout, and a reply that comes after its
/// call timed out is ignored.
public final class AMQPRPCClient: Sendable {
    /// The pseudo-queue RabbitMQ routes direct replies through.
    public static let directReplyTo = "amq.rabbitmq.reply-to"

    /// The channel the client uses.
    public let channel: AMQPChannel
    private let pending: NIOLockedValueBox<State>
    private let counter = ManagedAtomic<UInt64>(0)
    private let prefix: String

    private struct State {
        var calls: [String: EventLoopPromise<AMQPDelivery>] = [:]
        var finished: AMQPError?
    }

    private init(channel: AMQPChannel, pending: NIOLockedValueBox<State>) {
        self.channel = channel
        self.pending = pending
        self.prefix = "\(UInt64.random(in: 0...UInt64.max))-"
    }

    /// Opens a channel on `connection` and starts consuming direct replies on it.
    public static func make(connection: AMQPConnection) async throws -> AMQPRPCClient {
        let channel = try await connection.openChannel()
        let pending = NIOLockedValueBox(State())
        let client = AMQPRPCClient(channel: channel, pending: pending)
        _ = try await channel.consume(
            queue: Self.directReplyTo,
            noAck: true,
            onDelivery: { delivery in
                guard let id = delivery.properties.correlationID else { return }
                let promise = pending.withLockedValue { $0.calls.removeValue(forKey: id) }
                promise?.succeed(delivery)  // a late reply finds no promise and is dropped
            },
            onFinish: { error in
                let calls = pending.withLockedValue { state in
                    state.finished = error ?? AMQPError.channelClosed(channel.id)
                    defer { state.calls.removeAll() }
                    return state.calls
                }
                for promise in calls.values {
                    promise.fail(error ?? AMQPError.channelClosed(channel.id))
                }
            }
        )
        return client
    }

    /// Sends a request and waits for its reply.
    ///
    /// - Parameters:
    ///   - body: The request body.
    ///   - exchange: The exchange to publish to.
    ///   - routingKey: The routing key, e.g. the server's queue on the default exchange.
    ///   - properties: Further properties; `reply_to` and `correlation_id` are set by the client.
    ///   - timeout: How long to wait for the reply.
    /// - Returns: The reply delivery.
    /// - Throws: ``AMQPError`` with code `timeout` when no reply came in time.
    public func call(
        body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        properties: BasicProperties = BasicProperties(),
        timeout: TimeAmount = .seconds(10)
    ) async throws -> AMQPDelivery {
        let call = self.startCall(body: body, exchange: exchange, routingKey: routingKey, properties: properties, timeout: timeout)
        try await call.sent()
        return try await call.reply()
    }

    /// Sends a request and returns at once; the result tells apart "the request is out" (with
    /// the channel in confirm mode: the broker confirmed it) from "the reply came".
    ///
    /// Both waits end by `timeout`, counted from now: ``AMQPPendingCall/sent()`` and
    /// ``AMQPPendingCall/reply()`` then throw an ``AMQPError`` with code `timeout`.
    public func startCall(
        body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        properties: BasicProperties = BasicProperties(),
        timeout: TimeAmount = .seconds(10)
    ) -> AMQPPendingCall {
        let correlationID = self.prefix + String(self.counter.loadThenWrappingIncrement(ordering: .relaxed))
        let eventLoop = self.channel.eventLoop
        let promise = eventLoop.makePromise(of: AMQPDelivery.self)
        let sent = NIOLockedValueBox<EventLoopPromise<Void>?>(eventLoop.makePromise(of: Void.self))
        let sentFuture = sent.withLockedValue { $0!.futureResult }
        let finished = self.pending.withLockedValue { state -> AMQPError? in
            if state.finished == nil { state.calls[correlationID] = promise }
            return state.finished
        }
        if let finished {
            promise.fail(finished)
            sent.withLockedValue { $0.take() }?.fail(finished)
            return AMQPPendingCall(sentFuture: sentFuture, replyFuture: promise.futureResult)
        }
        let pending = self.pending
        let timer = eventLoop.scheduleTask(in: timeout) {
            let error = AMQPError(code: .timeout, message: "no reply to call \(correlationID) within \(timeout)")
            sent.withLockedValue { $0.take() }?.fail(error)
            let expired = pending.withLockedValue { $0.calls.removeValue(forKey: correlationID) }
            expired?.fail(error)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        var properties = properties
        properties.replyTo = Self.directReplyTo
        properties.correlationID = correlationID
        let publish = self.channel.startPublish(body: body, exchange: exchange, routingKey: routingKey, properties: properties)
        publish.future.whenComplete { result in
            sent.withLockedValue { $0.take() }?.completeWith(result)
            if case .failure(let error) = result {
                let call = pending.withLockedValue { $0.calls.removeValue(forKey: correlationID) }
                call?.fail(error)
            }
        }
        return AMQPPendingCall(sentFuture: sentFuture, replyFuture: promise.futureResult)
    }

    /// Closes the client's channel; calls still waiting fail.
    public func close() async throws {
        try await self.channel.close()
    }
}

/// A call of ``AMQPRPCClient/startCall(body:exchange:routingKey:properties:timeout:)`` in flight.
public struct AMQPPendingCall: Sendable {
    let sentFuture: EventLoopFuture<Void>
    let replyFuture: EventLoopFuture<AMQPDelivery>

    /// Returns once the request is out (confirmed by the broker, on a channel in confirm mode).
    /// - Throws: ``AMQPError``: `timeout`, `publishNacked`, or the channel's error when it closed.
    public func sent() async throws {
        try await AMQPConnection.mapErrors { try await self.sentFuture.get() }
    }

    /// Returns the reply.
    /// - Throws: ``AMQPError``: `timeout` when none came in time, or the publish's or channel's error.
    public func reply() async throws -> AMQPDelivery {
        try await AMQPConnection.mapErrors { try await self.replyFuture.get() }
    }
}
