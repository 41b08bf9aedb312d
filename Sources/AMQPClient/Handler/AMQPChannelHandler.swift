import AMQPProtocol
import DequeModule
import Logging
import NIOCore

/// The one NIO channel handler of an AMQP connection and the only holder of its protocol
/// state. It decodes frames, feeds them to the ``ConnectionStateMachine`` and the
/// ``ChannelStateMachine``s, and runs the actions they return. Every method runs on the
/// connection's event loop; the public API reaches it through `NIOLoopBound`.
final class AMQPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    var connection: ConnectionStateMachine
    var decoder = AMQPFrameDecoder()
    private var inbound: ByteBuffer?
    var channels: [UInt16: ChannelContext] = [:]
    var allocator = ChannelIDAllocator(channelMax: 0)
    var requests: [UInt64: RequestEntry] = [:]
    private var nextRequestID: UInt64 = 1
    var nextQueueID: UInt64 = 1
    var context: ChannelHandlerContext?
    let configuration: AMQPConfiguration
    var logger: Logger
    let eventLoop: EventLoop

    /// Completed when the connection is open (or failed when it cannot be).
    let connectPromise: EventLoopPromise<ConnectionStateMachine.Negotiated>
    /// Completed when the socket has closed; carries nil for a clean close.
    let closedPromise: EventLoopPromise<AMQPError?>
    private var connectTimeout: Scheduled<Void>?
    private var closeTimeout: Scheduled<Void>?
    private var heartbeatTask: RepeatedTask?
    private var deadlineTask: RepeatedTask?
    var negotiated: ConnectionStateMachine.Negotiated?
    var closeError: AMQPError?

    /// Set while the broker blocks publishing (`connection.blocked`).
    var blocked = false
    /// Publishes held back while blocked, in order.
    var blockedPublishes: Deque<(channelID: UInt16, publish: QueuedPublish)> = []
    /// Consumers whose buffers are full; socket reads wait until this is empty.
    var pausedConsumers = 0
    private var readPending = false
    private var flushScheduled = false
    /// Deliveries decoded during the current read, per consumer, in arrival order.
    var pendingDeliveries: [(channelID: UInt16, tag: String, key: UInt64, deliveries: [AMQPDelivery])] = []
    /// The connection's metrics.
    let instruments: AMQPInstruments
    /// The confirms this connection last added to ``AMQPInstruments/confirms``.
    private var confirmsReported = 0

    init(configuration: AMQPConfiguration, logger: Logger, eventLoop: EventLoop, instruments: AMQPInstruments = AMQPInstruments()) {
        self.instruments = instruments
        self.configuration = configuration
        self.connection = ConnectionStateMachine(configuration: .init(configuration))
        self.logger = logger
        self.eventLoop = eventLoop
        self.connectPromise = eventLoop.makePromise()
        self.closedPromise = eventLoop.makePromise()
    }

    func makeRequestID() -> UInt64 {
        defer { self.nextRequestID += 1 }
        return self.nextRequestID
    }

    /// The event loop's clock: real time in production, the test's clock under EmbeddedEventLoop.
    func now() -> UInt64 {
        self.eventLoop.now.uptimeNanoseconds
    }

    // MARK: Pipeline events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.connectTimeout = context.eventLoop.scheduleTask(in: self.configuration.connectionTimeout) {
            loopBound.value.connectTimedOut()
        }
        if context.channel.isActive {
            self.run(self.connection.connected(now: self.now()))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.run(self.connection.connected(now: self.now()))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.heartbeatTask?.cancel()
        self.heartbeatTask = nil
        self.deadlineTask?.cancel()
        self.deadlineTask = nil
        self.closeTimeout?.cancel()
        self.connectTimeout?.cancel()
        self.run(self.connection.channelInactive())
        self.reportConfirms(closing: true)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let amqpError: AMQPError
        switch error {
        case let error as AMQPProtocolError:
            amqpError = AMQPError(protocolError: error)
        case let error as AMQPError:
            amqpError = error
        default:
            amqpError = AMQPError(code: .connectionFailed, message: "I/O error: \(error)")
        }
        self.logger.debug("connection error", metadata: ["error": "\(amqpError)"])
        self.run(self.connection.errorHappened(amqpError))
    }

    func read(context: ChannelHandlerContext) {
        // A full consumer stops socket reads, except while anything waits for the broker: a
        // consumer loop that awaits, say, a queue.declare or a publish's confirm would otherwise
        // wait forever (only consumers without a prefetch bound ever pause; see ConsumerEntry).
        if self.pausedConsumers > 0, !self.awaitsBroker {
            self.readPending = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data)
        self.connection.bytesReceived(now: self.now())
        self.instruments.bytesIn.increment(by: Int64(bytes.readableBytes))
        var frames: Int64 = 0
        defer {
            self.instruments.framesIn.increment(by: frames)
            self.reportConfirms()
        }
        if self.inbound == nil {
            self.inbound = bytes
        } else {
            var incoming = bytes
            self.inbound!.writeBuffer(&incoming)
        }
        while self.context != nil, !self.connection.isClosed, var buffer = self.inbound {
            self.inbound = nil  // keep the buffer uniquely referenced while decoding
            let frame: Frame?
            do {
                frame = try self.decoder.decode(buffer: &buffer)
            } catch {
                self.inbound = nil
                self.errorCaught(context: context, error: error)
                return
            }
            if buffer.readableBytes > 0 {
                self.inbound = buffer
            }
            guard let frame else {
                if var rest = self.inbound, rest.readerIndex > 65536 {
                    rest.discardReadBytes()
                    self.inbound = rest
                }
                break
            }
            frames += 1
            self.frameReceived(frame)
        }
        self.flushDeliveries()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    // MARK: Frames

    private func frameReceived(_ frame: Frame) {
        if frame.channel == 0 {
            switch frame.payload {
            case .heartbeat:
                return
            case .method(let method):
                self.connectionMethodReceived(method)
            case .header, .body:
                self.run(self.connection.errorHappened(AMQPError(code: .protocolError, replyCode: ReplyCode.commandInvalid.rawValue, message: "content frame on channel 0")))
            }
            return
        }
        guard self.connection.isOpen else { return }  // closing: discard channel traffic
        guard self.channels[frame.channel] != nil else {
            self.run(
                self.connection.errorHappened(
                    AMQPError(code: .protocolError, replyCode: ReplyCode.channelError.rawValue, message: "frame for channel \(frame.channel), which is not open")
                )
            )
            return
        }
        let action: ChannelStateMachine.Action
        switch frame.payload {
        case .method(let method): action = self.channels[frame.channel]!.machine.methodReceived(method)
        case .header(let header): action = self.channels[frame.channel]!.machine.headerReceived(header)
        case .body(let body): action = self.channels[frame.channel]!.machine.bodyReceived(body)
        case .heartbeat: return  // the decoder rejects heartbeats off channel 0
        }
        self.run(action, channelID: frame.channel)
    }

    private func connectionMethodReceived(_ method: Method) {
        let action: ConnectionStateMachine.Action
        switch method {
        case .connectionStart(let start): action = self.connection.startReceived(start)
        case .connectionSecure(let secure): action = self.connection.secureReceived(secure)
        case .connectionTune(let tune): action = self.connection.tuneReceived(tune)
        case .connectionOpenOK: action = self.connection.openOKReceived()
        case .connectionClose(let close): action = self.connection.closeReceived(close)
        case .connectionCloseOK: action = self.connection.closeOKReceived()
        case .connectionBlocked(let blocked): action = self.connection.blockedReceived(blocked)
        case .connectionUnblocked: action = self.connection.unblockedReceived()
        case .connectionUpdateSecretOK: action = .none
        default:
            action = self.connection.errorHappened(
                AMQPError(
                    code: .protocolError,
                    replyCode: ReplyCode.commandInvalid.rawValue,
                    classID: method.classID,
                    methodID: method.methodID,
                    message: "\(method.name) is not allowed on channel 0"
                )
            )
        }
        self.run(action)
    }

    // MARK: Writing

    /// Encodes and writes frames; a frame too large for frame-max fails the promise instead.
    func write(_ frames: [Frame], promise: EventLoopPromise<Void>? = nil, flush: Bool = true) {
        switch self.encode(frames) {
        case .success(let buffer):
            self.writeEncoded(buffer, promise: promise, flush: flush)
        case .failure(let error):
            promise?.fail(error)
        }
    }

    /// Encodes frames against the negotiated frame-max; fails for a frame too large or a
    /// value too long (e.g. a routing key over 255 bytes), before any state has changed.
    func encode(_ frames: [Frame]) -> Result<ByteBuffer, AMQPError> {
        var buffer = self.context?.channel.allocator.buffer(capacity: 256) ?? ByteBuffer()
        do {
            for frame in frames {
                try frame.encode(into: &buffer, maxFrameSize: self.negotiated?.frameMax ?? 0)
            }
        } catch {
            return .failure(AMQPError(protocolError: error))
        }
        self.instruments.framesOut.increment(by: Int64(frames.count))
        return .success(buffer)
    }

    func writeEncoded(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, flush: Bool) {
        guard let context = self.context else {
            promise?.fail(AMQPError.connectionClosed())
            return
        }
        self.connection.bytesWritten(now: self.now())
        self.instruments.bytesOut.increment(by: Int64(buffer.readableBytes))
        context.write(Self.wrapOutboundOut(buffer), promise: promise)
        if flush {
            context.flush()
        } else {
            self.scheduleFlush()
        }
    }

    /// Flushes once the event loop has run the tasks already queued, so a burst of publishes
    /// or acks from other threads goes out in one syscall instead of one each.
    func scheduleFlush() {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    func write(method: Method, channel: UInt16, promise: EventLoopPromise<Void>? = nil) {
        self.write([Frame(channel: channel, payload: .method(method))], promise: promise)
    }

    // MARK: Connection actions

    func run(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendProtocolHeader:
            guard let context = self.context else { return }
            var buffer = context.channel.allocator.buffer(capacity: 8)
            AMQPProtocolHeader.amqp091.encode(into: &buffer)
            self.connection.bytesWritten(now: self.now())
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        case .sendStartOK(let startOK):
            self.write(method: startOK.method, channel: 0)
        case .sendTuneOKAndOpen(let tuneOK, let open, let negotiated):
            self.negotiated = negotiated
            self.decoder.maxFrameSize = negotiated.frameMax
            self.allocator = ChannelIDAllocator(channelMax: negotiated.channelMax)
            self.logger[metadataKey: "amqp.frame_max"] = "\(negotiated.frameMax)"
            self.write([Frame(channel: 0, payload: .method(tuneOK.method)), Frame(channel: 0, payload: .method(open.method))])
        case .fireConnected(let negotiated):
            self.connectTimeout?.cancel()
            self.connectTimeout = nil
            self.startHeartbeats()
            self.startDeadlineSweep()
            self.logger.debug(
                "connection open",
                metadata: ["amqp.heartbeat": "\(negotiated.heartbeat)", "amqp.channel_max": "\(negotiated.channelMax)"]
            )
            self.connectPromise.succeed(negotiated)
        case .sendClose(let close, let error):
            if let error { self.failEverything(error) }
            self.write(method: close.method, channel: 0)
            self.scheduleCloseTimeout()
        case .sendCloseOKAndCloseSocket(let error):
            self.failEverything(error)
            guard let context = self.context else { return }
            self.write(method: Method.Connection.CloseOK().method, channel: 0)
            context.close(promise: nil)
        case .closeSocket(let error):
            if let error { self.failEverything(error) }
            self.context?.close(promise: nil)
        case .sendHeartbeat:
            self.write([Frame.heartbeat])
        case .fireBlocked(let reason):
            self.logger.warning("the broker blocked publishing", metadata: ["amqp.reason": "\(reason)"])
            self.blocked = true
        case .fireUnblocked:
            self.logger.info("the broker unblocked publishing")
            self.blocked = false
            self.flushBlockedPublishes()
        case .fireClosed(let error):
            self.failEverything(error ?? AMQPError.connectionClosed())
            self.connectPromise.fail(error ?? AMQPError.connectionClosed("the connection closed during the handshake"))
            self.closedPromise.succeed(error)
        }
    }

    private func connectTimedOut() {
        self.connectTimeout = nil
        guard !self.connection.isOpen, !self.connection.isClosed else { return }
        let error = AMQPError(code: .timeout, message: "the AMQP handshake did not finish within \(self.configuration.connectionTimeout)")
        self.connectPromise.fail(error)
        self.run(self.connection.errorHappened(error))
    }

    private func scheduleCloseTimeout() {
        guard self.closeTimeout == nil, let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.closeTimeout = context.eventLoop.scheduleTask(in: .seconds(5)) {
            // The broker did not answer connection.close: give up on it.
            loopBound.value.context?.close(promise: nil)
        }
    }

    private func startDeadlineSweep() {
        guard let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = Self.sweepInterval(for: min(self.configuration.requestTimeout, self.configuration.effectiveConfirmTimeout))
        self.deadlineTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBound.value.sweepDeadlines()
        }
    }

    private func startHeartbeats() {
        guard let period = self.connection.heartbeatTimerPeriod, let context = self.context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let delay = TimeAmount.nanoseconds(Int64(period))
        self.heartbeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: delay, delay: delay) { _ in
            let handler = loopBound.value
            if handler.pausedConsumers > 0 {
                // We stopped reading because a consumer is full: the broker's silence is ours.
                handler.connection.bytesReceived(now: handler.now())
            }
            handler.run(handler.connection.heartbeatTimerFired(now: handler.now()))
        }
    }

    /// Fails every request, publish and consumer on every channel; idempotent.
    func failEverything(_ error: AMQPError) {
        self.flushDeliveries()
        if self.closeError == nil { self.closeError = error }
        for id in Array(self.channels.keys) {
            guard let action = self.channels[id]?.machine.connectionClosed(error) else { continue }
            self.run(action, channelID: id)
        }
        while let (_, queued) = self.blockedPublishes.popFirst() {
            queued.timeout?.cancel()
            queued.promise.fail(error)
        }
        let requests = self.requests
        self.requests.removeAll()
        for request in requests.values {
            request.pending.fail(error)
        }
        self.resumeReadingIfPossible(force: true)
    }

    // MARK: Read backpressure

    /// Whether a reply or a confirm is outstanding, which socket reads must not hold back.
    var awaitsBroker: Bool {
        !self.requests.isEmpty || self.channels.values.contains { !$0.confirms.isEmpty }
    }

    func consumerPaused() {
        self.pausedConsumers += 1
    }

    func consumerResumed() {
        self.pausedConsumers -= 1
        self.resumeReadingIfPossible(force: false)
    }

    func resumeReadingIfPossible(force: Bool) {
        if force { self.pausedConsumers = 0 }
        guard self.pausedConsumers == 0 || self.awaitsBroker, self.readPending, let context = self.context else { return }
        self.readPending = false
        context.read()
    }
}

extension AMQPChannelHandler {
    /// Brings ``AMQPInstruments/confirms`` up to date with this connection's publishes awaiting
    /// a confirm (all gone when `closing`).
    func reportConfirms(closing: Bool = false) {
        let now = closing ? 0 : self.channels.values.reduce(0) { $0 + $1.confirms.count }
        guard now != self.confirmsReported else { return }
        let change = now - self.confirmsReported
        if change > 0 { self.instruments.confirms.increment(by: Double(change)) } else { self.instruments.confirms.decrement(by: Double(-change)) }
        self.confirmsReported = now
    }
}
