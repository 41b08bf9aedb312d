import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// An AMQP channel: a lightweight session on a connection where you declare topology,
/// publish and consume.
///
/// A broker error on one channel (e.g. 404 for a missing queue, 406 for an inequivalent
/// redeclare) closes only that channel; every later call on it throws that error. Open a new
/// channel to go on.
public final class AMQPChannel: Sendable {
    /// The channel number on its connection.
    public let id: UInt16
    /// The connection the channel belongs to.
    public let connection: AMQPConnection
    /// Mandatory messages the broker could not route (`basic.return`). Keeps the newest 1,024
    /// when nobody reads it; ends when the channel closes.
    public let returns: AsyncStream<AMQPReturnedMessage>

    /// Why the channel closed, once it has; set by the handler.
    private let closeReasonBox = NIOLockedValueBox<AMQPError?>(nil)
    /// Acks, nacks and rejects not yet handed to the event loop. The first one queues a task
    /// that takes them all, so a consumer acking one message after another costs one event-loop
    /// task (and one write) per batch instead of per message. Bounded by the unacknowledged
    /// deliveries, i.e. by the prefetch count.
    private let pendingAsync = NIOLockedValueBox<[Method]>([])

    init(id: UInt16, connection: AMQPConnection, returns: AsyncStream<AMQPReturnedMessage>) {
        self.id = id
        self.connection = connection
        self.returns = returns
    }

    var eventLoop: any EventLoop { self.connection.handler.eventLoop }

    /// Why the channel closed: the broker's error (e.g. 406 PRECONDITION_FAILED), the
    /// connection's, or `channelClosed` after a clean close; nil while it is open.
    public var closeReason: AMQPError? {
        self.closeReasonBox.withLockedValue { $0 }
    }

    func recordClose(_ error: AMQPError?) {
        self.closeReasonBox.withLockedValue { reason in
            if reason == nil { reason = error ?? AMQPError.channelClosed(self.id) }
        }
    }

    /// Runs `body` on the handler if this object is still the channel behind its id (ids are
    /// reused after close, so a stale object must never reach a new channel); otherwise fails
    /// `promise` with the reason the channel closed.
    func withHandler<T>(failing promise: EventLoopPromise<T>, _ body: @escaping @Sendable (AMQPChannelHandler) -> Void) {
        self.connection.withHandler { handler in
            guard handler.channels[self.id]?.channel === self else {
                promise.fail(self.closeReason ?? handler.closeError ?? AMQPError.channelClosed(self.id))
                return
            }
            body(handler)
        }
    }

    /// Sends a synchronous method and waits for its reply.
    func request(_ method: Method) async throws(AMQPError) -> ChannelStateMachine.Reply {
        let promise = self.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        let id = self.id
        self.withHandler(failing: promise) { $0.sendRequest(channelID: id, method: method, pending: .reply(promise)) }
        return try await AMQPConnection.mapErrors { try await promise.futureResult.get() }
    }

    /// Sends a synchronous method and unwraps its typed reply.
    func request<Reply: AMQPMethodPayload>(_ method: Method, expecting: Reply.Type) async throws(AMQPError) -> Reply {
        guard case .method(let reply) = try await self.request(method), let typed = Reply(reply) else {
            throw AMQPError(code: .protocolError, message: "\(method.name) was not answered with \(Reply.name)")
        }
        return typed
    }

    /// Hands an asynchronous method (ack, nack, reject) to the connection without waiting for
    /// the write: the spec has no reply for these, and waiting would cost a thread hop per
    /// message. Fails at once when the channel is already known to be closed.
    func sendAsync(_ method: Method) throws(AMQPError) {
        if let reason = self.closeReason { throw reason }
        let first = self.pendingAsync.withLockedValue { pending in
            pending.append(method)
            return pending.count == 1
        }
        guard first else { return }  // the task already queued takes this one too
        let id = self.id
        self.connection.withHandler { handler in
            let methods = self.pendingAsync.withLockedValue { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            guard handler.channels[id]?.channel === self else { return }  // closed meanwhile: the broker requeues
            handler.sendAsync(channelID: id, methods: methods)
        }
    }

    /// Closes the channel (`channel.close`); waits for the broker's close-ok. Consumers on it end.
    public func close() async throws {
        let promise = self.eventLoop.makePromise(of: Void.self)
        let id = self.id
        self.connection.withHandler { handler in
            guard handler.channels[id]?.channel === self else {
                promise.succeed()  // already closed, by us, the broker or the connection
                return
            }
            handler.closeChannel(channelID: id, promise: promise)
        }
        try await AMQPConnection.mapErrors { try await promise.futureResult.get() }
    }

    /// Sets the prefetch window (`basic.qos`): how many unacknowledged deliveries the broker sends.
    ///
    /// - Parameters:
    ///   - prefetchCount: The most unacknowledged messages; 0 for no limit.
    ///   - global: RabbitMQ: false applies to each new consumer on the channel, true to the channel as a whole.
    public func basicQos(prefetchCount: UInt16, global: Bool = false) async throws {
        let promise = self.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        let id = self.id
        let method = Method.Basic.Qos(prefetchCount: prefetchCount, global: global).method
        self.withHandler(failing: promise) {
            $0.sendRequest(channelID: id, method: method, pending: .qos(promise, prefetchCount: prefetchCount, global: global))
        }
        _ = try await AMQPConnection.mapErrors { try await promise.futureResult.get() }
    }

    /// Acknowledges a delivery (and, with `multiple`, every earlier one on this channel).
    ///
    /// Returns once the ack is handed to the connection (acks have no reply); throws when the
    /// channel is already closed, in which case the broker requeues the message anyway.
    public func ack(deliveryTag: UInt64, multiple: Bool = false) async throws {
        try self.sendAsync(Method.Basic.Ack(deliveryTag: deliveryTag, multiple: multiple).method)
    }

    /// Negatively acknowledges a delivery (and, with `multiple`, every earlier one).
    public func nack(deliveryTag: UInt64, multiple: Bool = false, requeue: Bool = true) async throws {
        try self.sendAsync(Method.Basic.Nack(deliveryTag: deliveryTag, multiple: multiple, requeue: requeue).method)
    }

    /// Rejects a delivery; `requeue` puts it back in the queue.
    public func reject(deliveryTag: UInt64, requeue: Bool = true) async throws {
        try self.sendAsync(Method.Basic.Reject(deliveryTag: deliveryTag, requeue: requeue).method)
    }

    /// Puts the channel in confirm mode: from now on ``publish(body:exchange:routingKey:mandatory:properties:)``
    /// returns only once the broker has acked the message and throws when it nacks.
    public func confirmSelect() async throws {
        _ = try await self.request(Method.Confirm.Select().method, expecting: Method.Confirm.SelectOK.self)
    }
}
