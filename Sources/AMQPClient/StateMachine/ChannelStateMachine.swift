import AMQPProtocol
import DequeModule
import NIOCore

/// One AMQP channel as a pure state machine: opening and closing, the queue of synchronous
/// methods in flight (one on the wire at a time per the spec, replies matched in order),
/// content assembly (method → header → body frames) and publisher confirms.
///
/// Requests are known by a `RequestID` the handler chooses; the handler keeps the promises.
struct ChannelStateMachine {
    typealias RequestID = UInt64

    /// A message put together from a content method, its header and its body frames.
    struct Content: Equatable, Sendable {
        var header: ContentHeader
        var body: ByteBuffer
    }

    /// What a synchronous request was answered with.
    enum Reply: Equatable {
        /// A method reply without content.
        case method(Method)
        /// `basic.get-ok` with its message.
        case getOK(Method.Basic.GetOK, Content)
    }

    /// Everything to tear down when the channel ends.
    struct Teardown: Equatable {
        /// The requests to fail.
        var failedRequests: [RequestID]
        /// The publishes awaiting a confirm, to fail.
        var failedConfirms: [UInt64]
        /// Why, for everything above and the channel's consumers; nil for a clean client close.
        var error: AMQPError?
        /// Whether to write `channel.close-ok` (the broker closed the channel).
        var sendCloseOK: Bool
        /// The close request to succeed, when we closed it.
        var succeededClose: RequestID?
    }

    /// What the handler must do after an event.
    enum Action: Equatable {
        /// Nothing to do.
        case none
        /// Write this method on the channel.
        case sendMethod(Method)
        /// Complete a request.
        case succeedRequest(RequestID, Reply)
        /// Fail a request.
        case failRequest(RequestID, AMQPError)
        /// Hand a delivery to the consumer with this tag.
        case deliver(Method.Basic.Deliver, Content)
        /// Hand a returned message to the channel's return listeners.
        case forwardReturn(Method.Basic.Return, Content)
        /// Complete (acked) or fail (nacked) the publishes with these delivery tags.
        case completeConfirms([UInt64], nacked: Bool)
        /// The broker cancelled this consumer (`basic.cancel`).
        case cancelConsumer(String)
        /// The broker answered `channel.flow`; write this reply.
        case sendFlowOK(Method.Channel.FlowOK)
        /// The channel is over: fail, finish and release per the teardown.
        case closeChannel(Teardown)
        /// The broker broke the protocol on this channel; close the whole connection.
        case closeConnection(AMQPError)
    }

    enum State: Equatable {
        case opening
        case open
        /// We sent `channel.close`.
        case closing(RequestID)
        case closed(AMQPError?)
    }

    /// Where content assembly stands.
    enum ContentState {
        case idle
        case expectingHeader(Incoming)
        case expectingBody(Incoming, ContentHeader, ByteBuffer?)
    }

    /// The method a content belongs to.
    enum Incoming {
        case deliver(Method.Basic.Deliver)
        case returned(Method.Basic.Return)
        case getOK(RequestID, Method.Basic.GetOK)

        var method: Method {
            switch self {
            case .deliver(let deliver): deliver.method
            case .returned(let returned): returned.method
            case .getOK(_, let getOK): getOK.method
            }
        }
    }

    /// The channel number.
    let id: UInt16
    var state: State = .opening
    var pending: Deque<(id: RequestID, method: Method)> = []
    var content: ContentState = .idle
    /// The delivery tag of the next publish in confirm mode; nil outside confirm mode.
    var nextPublishTag: UInt64?
    /// Delivery tags published but not yet acked or nacked, in order.
    var outstandingConfirms: Deque<UInt64> = []

    /// Creates the machine of a channel about to be opened with `channel.open`.
    init(id: UInt16) {
        self.id = id
    }

    /// Whether the channel is open for requests and publishes.
    var isOpen: Bool { self.state == .open }

    /// Whether the channel has ended.
    var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    /// The number of requests waiting for their reply.
    var pendingRequestCount: Int { self.pending.count }

    // MARK: Opening and requests

    /// The application asked to open the channel.
    mutating func openRequested(_ request: RequestID) -> Action {
        precondition(self.state == .opening && self.pending.isEmpty, "channel \(self.id) opened twice")
        self.pending.append((request, Method.Channel.Open().method))
        return .sendMethod(Method.Channel.Open().method)
    }

    /// The application sent a synchronous method (declare, bind, qos, consume, get, ...).
    ///
    /// Requests queue up: the spec allows one synchronous method in flight per channel, and the
    /// broker answers them in order. The method is written at once; RabbitMQ processes a
    /// channel's methods in order, so pipelining them is safe and faster than waiting.
    mutating func requestSent(_ request: RequestID, _ method: Method) -> Action {
        switch self.state {
        case .open:
            if case .confirmSelect = method, self.nextPublishTag == nil {
                self.nextPublishTag = 1
            }
            self.pending.append((request, method))
            return .sendMethod(method)
        case .opening, .closing:
            return .failRequest(request, AMQPError.channelClosed(self.id))
        case .closed(let error):
            return .failRequest(request, error ?? AMQPError.channelClosed(self.id))
        }
    }

    /// The application publishes a message. Returns the delivery tag in confirm mode, nil
    /// otherwise, or the error when the channel is not open.
    mutating func publishSent() -> Result<UInt64?, AMQPError> {
        switch self.state {
        case .open:
            guard let tag = self.nextPublishTag else { return .success(nil) }
            self.nextPublishTag = tag + 1
            self.outstandingConfirms.append(tag)
            return .success(tag)
        case .closed(let error?):
            return .failure(error)
        default:
            return .failure(AMQPError.channelClosed(self.id))
        }
    }

    // MARK: Incoming frames

    /// A method frame arrived on this channel.
    mutating func methodReceived(_ method: Method) -> Action {
        if case .closed = self.state {
            // A frame for a channel we already consider gone (e.g. after close-ok): drop it.
            return .none
        }
        guard case .idle = self.content else {
            return self.violation("\(method.name) arrived while content for a previous method was incomplete", method: method)
        }
        if case .closing = self.state {
            // After sending channel.close, everything but close and close-ok is discarded.
            switch method {
            case .channelClose(let close): return self.closeReceived(close)
            case .channelCloseOK: return self.closeOKReceived()
            default: return .none
            }
        }
        switch method {
        case .channelClose(let close):
            return self.closeReceived(close)
        case .channelCloseOK:
            return self.violation("channel.close-ok without a channel.close", method: method)
        case .basicDeliver(let deliver):
            self.content = .expectingHeader(.deliver(deliver))
            return .none
        case .basicReturn(let returned):
            self.content = .expectingHeader(.returned(returned))
            return .none
        case .basicAck(let ack):
            return self.confirmReceived(tag: ack.deliveryTag, multiple: ack.multiple, nacked: false)
        case .basicNack(let nack):
            return self.confirmReceived(tag: nack.deliveryTag, multiple: nack.multiple, nacked: true)
        case .basicCancel(let cancel):
            return .cancelConsumer(cancel.consumerTag)
        case .channelFlow(let flow):
            return .sendFlowOK(Method.Channel.FlowOK(active: flow.active))
        default:
            return self.replyReceived(method)
        }
    }

    mutating func replyReceived(_ method: Method) -> Action {
        guard let (_, firstMethod) = self.pending.first else {
            return self.violation("\(method.name) arrived but no request is waiting", method: method)
        }
        // Replies come in the order of the requests, with one exception measured on RabbitMQ:
        // the queue process, not the channel, sends basic.cancel-ok, so the reply to a method
        // sent after a basic.cancel (e.g. a queue.declare right after leaving a consumer's loop)
        // can overtake it. So a reply may pass waiting cancels, and a cancel-ok answers the
        // cancel of its own consumer tag.
        var index = self.pending.startIndex
        while true {
            guard index < self.pending.endIndex else {
                return self.violation("\(method.name) does not answer \(firstMethod.name)", method: method)
            }
            let waiting = self.pending[index].1
            if Self.isReply(method, to: waiting), Self.sameConsumer(method, waiting) { break }
            guard case .basicCancel = waiting else {
                return self.violation("\(method.name) does not answer \(waiting.name)", method: method)
            }
            index += 1
        }
        let (request, _) = self.pending.remove(at: index)
        switch method {
        case .channelOpenOK:
            self.state = .open
        case .basicGetOK(let getOK):
            self.content = .expectingHeader(.getOK(request, getOK))
            return .none
        default:
            break
        }
        return .succeedRequest(request, .method(method))
    }

    /// False only for a basic.cancel-ok whose consumer tag is not the one `request` cancels.
    static func sameConsumer(_ reply: Method, _ request: Method) -> Bool {
        guard case .basicCancelOK(let ok) = reply, case .basicCancel(let cancel) = request else { return true }
        return ok.consumerTag == cancel.consumerTag
    }

    /// Whether `reply` is a valid answer to `request`: same class, the next method id, except
    /// `exchange.unbind-ok` (40.51) and `basic.get-empty` (60.72).
    static func isReply(_ reply: Method, to request: Method) -> Bool {
        guard reply.classID == request.classID else { return false }
        switch request {
        case .exchangeUnbind: return reply.methodID == 51
        case .basicGet: return reply.methodID == 71 || reply.methodID == 72
        default: return reply.methodID == request.methodID + 1
        }
    }

    // MARK: Closing

    /// The application asked to close the channel. Requests still waiting fail at once: after
    /// `channel.close` the spec has us discard everything but close-ok.
    mutating func closeRequested(_ request: RequestID) -> Action {
        switch self.state {
        case .open:
            self.state = .closing(request)
            return .sendMethod(Method.Channel.Close(replyCode: 200, replyText: "Goodbye", classID: 0, methodID: 0).method)
        case .opening:
            // Wait for open-ok? Simpler and safe: close right after; the broker handles close
            // before open-ok is read by us just fine, since it answers in order.
            self.state = .closing(request)
            return .sendMethod(Method.Channel.Close(replyCode: 200, replyText: "Goodbye", classID: 0, methodID: 0).method)
        case .closing:
            return .failRequest(request, AMQPError.channelClosed(self.id))
        case .closed:
            return .succeedRequest(request, .method(Method.Channel.CloseOK().method))
        }
    }

    /// The requests that fail right away when a client close is sent (used by the handler
    /// after ``closeRequested(_:)`` returned `.sendMethod`).
    mutating func takePendingForClose() -> Teardown {
        let teardown = Teardown(
            failedRequests: self.pending.map(\.id),
            failedConfirms: Array(self.outstandingConfirms),
            error: AMQPError.channelClosed(self.id),
            sendCloseOK: false,
            succeededClose: nil
        )
        self.pending.removeAll()
        self.outstandingConfirms.removeAll()
        self.content = .idle
        return teardown
    }

    private mutating func closeReceived(_ close: Method.Channel.Close) -> Action {
        let error = AMQPError.brokerClosedChannel(
            channelID: self.id,
            replyCode: close.replyCode,
            replyText: close.replyText,
            classID: close.classID,
            methodID: close.methodID
        )
        var closeRequest: RequestID?
        if case .closing(let request) = self.state { closeRequest = request }
        var teardown = self.tearDown(error: error)
        teardown.sendCloseOK = true
        if let closeRequest {
            // Both sides closed at once: our close counts as done.
            teardown.succeededClose = closeRequest
        }
        return .closeChannel(teardown)
    }

    private mutating func closeOKReceived() -> Action {
        guard case .closing(let request) = self.state else {
            return self.violation("channel.close-ok without a channel.close", method: nil)
        }
        var teardown = self.tearDown(error: nil)
        teardown.succeededClose = request
        return .closeChannel(teardown)
    }

    /// The connection ended: fail everything on this channel with `error`.
    mutating func connectionClosed(_ error: AMQPError) -> Action {
        if case .closed = self.state { return .none }
        var closeRequest: RequestID?
        if case .closing(let request) = self.state { closeRequest = request }
        var teardown = self.tearDown(error: error)
        if let closeRequest { teardown.failedRequests.append(closeRequest) }
        return .closeChannel(teardown)
    }

    private mutating func tearDown(error: AMQPError?) -> Teardown {
        let teardown = Teardown(
            failedRequests: self.pending.map(\.id),
            failedConfirms: Array(self.outstandingConfirms),
            error: error,
            sendCloseOK: false,
            succeededClose: nil
        )
        self.pending.removeAll()
        self.outstandingConfirms.removeAll()
        self.content = .idle
        self.state = .closed(error)
        return teardown
    }

    func violation(_ message: String, method: Method?) -> Action {
        .closeConnection(
            AMQPError(
                code: .protocolError,
                replyCode: ReplyCode.unexpectedFrame.rawValue,
                classID: method?.classID,
                methodID: method?.methodID,
                message: "channel \(self.id): \(message)"
            )
        )
    }
}
