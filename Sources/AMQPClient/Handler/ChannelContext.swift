import AMQPProtocol
import DequeModule
import NIOCore

/// A publish waiting for room (confirm window full) or for the broker to unblock the connection.
struct QueuedPublish {
    var id: UInt64
    var publish: Method.Basic.Publish
    var properties: BasicProperties
    var body: ByteBuffer
    var promise: EventLoopPromise<Void>
    var timeout: Scheduled<Void>?
    /// When the publish was asked for (the event loop's uptime in ns), for the request timeout.
    var startedAt: UInt64
}

/// A publish sent in confirm mode, waiting for the broker's ack.
struct PendingConfirm {
    var promise: EventLoopPromise<Void>
    /// When the publish was asked for (the event loop's uptime in ns).
    var startedAt: UInt64
}

/// A synchronous request waiting for its reply.
struct RequestEntry {
    var pending: PendingRequest
    var channelID: UInt16
    /// When it was sent (the event loop's uptime in ns), for the request timeout.
    var sentAt: UInt64
}

/// A consumer as the handler knows it.
struct ConsumerEntry {
    var key: UInt64
    var sink: ConsumerSink
    var noAck: Bool
    /// The sequence asked us to stop; socket reads stay paused until it asks for more.
    var paused: Bool = false
    /// The application stopped iterating; a basic.cancel is on its way.
    var terminated: Bool = false
    /// Acknowledged deliveries on a channel with a prefetch count: the broker never sends more
    /// than the prefetch, so the buffer (at least that large) cannot overflow and the consumer
    /// never stops socket reads. Stopping them would also hold back every reply and confirm of
    /// the connection, which the consumer's own loop may be waiting for.
    var boundedByPrefetch: Bool = false
}

/// What the handler keeps per open channel besides its state machine.
///
/// A class, only ever touched on the event loop: the handler looks a channel up several times
/// per frame, and as a struct each lookup copied (and released) every field of it, about 1,000
/// instructions a time, several times per delivery.
final class ChannelContext {
    var machine: ChannelStateMachine
    /// The AMQPChannel object, once open, so deliveries can point back at it.
    var channel: AMQPChannel?
    var returns: AsyncStream<AMQPReturnedMessage>.Continuation
    /// Consumers by consumer tag.
    var consumers: [String: ConsumerEntry] = [:]
    /// Confirm promises by delivery tag.
    var confirms: [UInt64: PendingConfirm] = [:]
    /// Publishes waiting for the confirm window.
    var waitingPublishes: Deque<QueuedPublish> = []
    /// The prefetch count set by basic.qos, which bounds unacknowledged deliveries.
    var prefetchCount: UInt16 = 0

    init(id: UInt16, returns: AsyncStream<AMQPReturnedMessage>.Continuation) {
        self.machine = ChannelStateMachine(id: id)
        self.returns = returns
    }
}

/// What the handler must do when a request's reply arrives.
enum PendingRequest {
    /// Complete with the reply.
    case reply(EventLoopPromise<ChannelStateMachine.Reply>)
    /// Register the consumer under the tag from consume-ok, then complete.
    case consume(EventLoopPromise<String>, key: UInt64, sink: ConsumerSink, noAck: Bool)
    /// Remove the consumer and finish its sequence, then complete (nil: our own cancel after the sequence ended).
    case cancel(EventLoopPromise<Void>?, tag: String)
    /// Remember the prefetch count, then complete.
    case qos(EventLoopPromise<ChannelStateMachine.Reply>, prefetchCount: UInt16, global: Bool)
    /// Complete the channel open.
    case open(EventLoopPromise<Void>)
    /// Complete the channel close.
    case close(EventLoopPromise<Void>)

    func fail(_ error: AMQPError) {
        switch self {
        case .reply(let promise): promise.fail(error)
        case .consume(let promise, _, let sink, _):
            sink.finish(error)
            promise.fail(error)
        case .cancel(let promise, _): promise?.fail(error)
        case .qos(let promise, _, _): promise.fail(error)
        case .open(let promise): promise.fail(error)
        case .close(let promise): promise.fail(error)
        }
    }
}
