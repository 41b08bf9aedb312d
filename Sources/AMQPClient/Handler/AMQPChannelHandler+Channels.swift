import AMQPProtocol
import Logging
import NIOCore

extension AMQPChannelHandler {
    // MARK: Commands from the public API

    /// Allocates the lowest free channel id and sends `channel.open`.
    func openChannel(returns: AsyncStream<AMQPReturnedMessage>.Continuation, promise: EventLoopPromise<UInt16>) {
        guard self.connection.isOpen else {
            promise.fail(self.closeError ?? AMQPError.connectionClosed())
            return
        }
        guard let id = self.allocator.allocate() else {
            promise.fail(AMQPError(code: .channelLimitReached, message: "all \(self.allocator.channelMax) channel ids are in use"))
            return
        }
        self.channels[id] = ChannelContext(id: id, returns: returns)
        let request = self.makeRequestID()
        let opened = self.eventLoop.makePromise(of: Void.self)
        self.requests[request] = RequestEntry(pending: .open(opened), channelID: id, sentAt: self.now())
        opened.futureResult.map { id }.cascade(to: promise)
        let action = self.channels[id]!.machine.openRequested(request)
        self.run(action, channelID: id)
    }

    /// Records the AMQPChannel object of an open channel, for deliveries.
    func channelObjectCreated(_ channel: AMQPChannel) {
        self.channels[channel.id]?.channel = channel
    }

    /// Sends a synchronous method and registers what to do with its reply.
    func sendRequest(channelID: UInt16, method: Method, pending: PendingRequest) {
        guard self.connection.isOpen, self.channels[channelID] != nil else {
            pending.fail(self.closeError ?? AMQPError.channelClosed(channelID))
            return
        }
        // A method that cannot be encoded (e.g. a queue name over 255 bytes) fails here,
        // before the machine waits for a reply that would never come.
        if case .failure(let error) = self.encode([Frame(channel: channelID, payload: .method(method))]) {
            pending.fail(error)
            return
        }
        let request = self.makeRequestID()
        self.requests[request] = RequestEntry(pending: pending, channelID: channelID, sentAt: self.now())
        let action = self.channels[channelID]!.machine.requestSent(request, method)
        self.run(action, channelID: channelID)
        self.resumeReadingIfPossible(force: false)  // the reply must be readable
    }

    /// Sends asynchronous methods (acks, nacks, rejects) batched by an ``AMQPChannel``, in
    /// order, in one write; nothing when the channel is gone (the broker requeues).
    func sendAsync(channelID: UInt16, methods: [Method]) {
        guard self.connection.isOpen, let channel = self.channels[channelID], channel.machine.isOpen else { return }
        self.write(methods.map { Frame(channel: channelID, payload: .method($0)) }, flush: false)
    }

    /// Closes a channel with `channel.close`.
    func closeChannel(channelID: UInt16, promise: EventLoopPromise<Void>) {
        guard self.connection.isOpen, self.channels[channelID] != nil else {
            promise.succeed()  // already gone with its connection or closed by the broker
            return
        }
        let request = self.makeRequestID()
        self.requests[request] = RequestEntry(pending: .close(promise), channelID: channelID, sentAt: self.now())
        let action = self.channels[channelID]!.machine.closeRequested(request)
        if case .sendMethod = action {
            let teardown = self.channels[channelID]!.machine.takePendingForClose()
            self.failPending(teardown, channelID: channelID)
            self.finishConsumers(channelID: channelID, error: nil)
        }
        self.run(action, channelID: channelID)
    }

    /// Starts the connection close handshake.
    func closeConnection(promise: EventLoopPromise<Void>) {
        self.closedPromise.futureResult.map { _ in () }.cascade(to: promise)
        self.run(self.connection.closeRequested())
    }

    // MARK: Channel actions

    func run(_ action: ChannelStateMachine.Action, channelID: UInt16) {
        switch action {
        case .none:
            break
        case .sendMethod(let method):
            self.write(method: method, channel: channelID)
        case .sendFlowOK(let flowOK):
            self.write(method: flowOK.method, channel: channelID)
        case .succeedRequest(let request, let reply):
            guard let pending = self.requests.removeValue(forKey: request)?.pending else { return }
            self.requestSucceeded(pending, reply: reply, channelID: channelID)
        case .failRequest(let request, let error):
            self.requests.removeValue(forKey: request)?.pending.fail(error)
        case .deliver(let deliver, let content):
            self.deliver(deliver, content: content, channelID: channelID)
        case .forwardReturn(let returned, let content):
            let message = AMQPReturnedMessage(
                replyCode: returned.replyCode,
                replyText: returned.replyText,
                exchange: returned.exchange,
                routingKey: returned.routingKey,
                properties: content.header.properties,
                body: content.body
            )
            self.channels[channelID]?.returns.yield(message)
        case .completeConfirms(let tags, let nacked):
            for tag in tags {
                guard let promise = self.channels[channelID]?.confirms.removeValue(forKey: tag)?.promise else { continue }
                if nacked {
                    promise.fail(AMQPError(code: .publishNacked, message: "the broker nacked publish \(tag) on channel \(channelID)"))
                } else {
                    promise.succeed()
                }
            }
            self.drainWaitingPublishes(channelID: channelID)
        case .cancelConsumer(let tag):
            self.flushDeliveries()
            self.logger.debug("the broker cancelled a consumer", metadata: ["amqp.channel": "\(channelID)", "amqp.consumer": "\(tag)"])
            if let entry = self.channels[channelID]?.consumers.removeValue(forKey: tag) {
                if entry.paused { self.consumerResumed() }
                entry.sink.finish(AMQPError(code: .consumerCancelled, message: "the broker cancelled consumer \(tag) (was its queue deleted?)"))
            }
        case .closeChannel(let teardown):
            self.channelClosed(teardown, channelID: channelID)
        case .closeConnection(let error):
            self.logger.error("protocol violation", metadata: ["amqp.channel": "\(channelID)", "error": "\(error)"])
            self.run(self.connection.errorHappened(error))
        }
    }

    private func requestSucceeded(_ pending: PendingRequest, reply: ChannelStateMachine.Reply, channelID: UInt16) {
        switch pending {
        case .reply(let promise):
            promise.succeed(reply)
        case .open(let promise):
            promise.succeed()
        case .close(let promise):
            promise.succeed()
        case .qos(let promise, let prefetchCount, _):
            self.channels[channelID]?.prefetchCount = prefetchCount
            promise.succeed(reply)
        case .consume(let promise, let key, let sink, let noAck):
            guard case .method(.basicConsumeOK(let consumeOK)) = reply else {
                promise.fail(AMQPError(code: .protocolError, message: "basic.consume answered without consume-ok"))
                return
            }
            let bounded = !noAck && (self.channels[channelID]?.prefetchCount ?? 0) > 0
            self.channels[channelID]?.consumers[consumeOK.consumerTag] = ConsumerEntry(
                key: key, sink: sink, noAck: noAck, boundedByPrefetch: bounded
            )
            promise.succeed(consumeOK.consumerTag)
        case .cancel(let promise, let tag):
            self.flushDeliveries()
            if let entry = self.channels[channelID]?.consumers.removeValue(forKey: tag) {
                if entry.paused { self.consumerResumed() }
                entry.sink.finish(nil)
            }
            promise?.succeed()
        }
    }

    private func deliver(_ deliver: Method.Basic.Deliver, content: ChannelStateMachine.Content, channelID: UInt16) {
        guard let entry = self.channels[channelID]?.consumers[deliver.consumerTag], !entry.terminated,
            let channel = self.channels[channelID]?.channel
        else {
            // A delivery racing our basic.cancel: put it back so another consumer gets it.
            if let entry = self.channels[channelID]?.consumers[deliver.consumerTag], !entry.noAck {
                self.write(method: Method.Basic.Reject(deliveryTag: deliver.deliveryTag, requeue: true).method, channel: channelID)
            }
            return
        }
        let delivery = AMQPDelivery(
            body: content.body,
            properties: content.header.properties,
            deliveryTag: deliver.deliveryTag,
            redelivered: deliver.redelivered,
            exchange: deliver.exchange,
            routingKey: deliver.routingKey,
            consumerTag: deliver.consumerTag,
            channel: channel
        )
        switch entry.sink {
        case .callback(let callback, _):
            callback(delivery)
        case .sequence:
            // Batched: yielded together at the end of this read, one wake-up per batch.
            if self.pendingDeliveries.isEmpty || self.pendingDeliveries.last!.key != entry.key {
                var batch: [AMQPDelivery] = []
                batch.reserveCapacity(64)  // a read holds hundreds of small messages: grow less often
                batch.append(delivery)
                self.pendingDeliveries.append((channelID, deliver.consumerTag, entry.key, batch))
            } else {
                self.pendingDeliveries[self.pendingDeliveries.count - 1].deliveries.append(delivery)
            }
        }
    }

    /// Yields the deliveries batched during a read to their consumers, in order. Runs at the end
    /// of every read and before any consumer is finished, so nothing overtakes an end.
    func flushDeliveries() {
        guard !self.pendingDeliveries.isEmpty else { return }
        let batches = self.pendingDeliveries
        self.pendingDeliveries.removeAll(keepingCapacity: true)
        for batch in batches {
            guard let entry = self.channels[batch.channelID]?.consumers[batch.tag], entry.key == batch.key,
                case .sequence(let source) = entry.sink
            else { continue }
            switch source.yield(contentsOf: batch.deliveries) {
            case .produceMore, .dropped:
                break
            case .stopProducing:
                if !entry.paused, !entry.boundedByPrefetch {
                    self.channels[batch.channelID]?.consumers[batch.tag]?.paused = true
                    self.consumerPaused()
                }
            }
        }
    }

    private func channelClosed(_ teardown: ChannelStateMachine.Teardown, channelID: UInt16) {
        if teardown.sendCloseOK {
            self.write(method: Method.Channel.CloseOK().method, channel: channelID)
        }
        if let error = teardown.error, error.code != .connectionClosed {
            self.logger.info("channel closed", metadata: ["amqp.channel": "\(channelID)", "error": "\(error)"])
        }
        // Before anyone waiting is woken: a caller that sees its request fail must also see
        // the channel closed (a channel pool would otherwise lend it out again).
        self.channels[channelID]?.channel?.recordClose(teardown.error)
        self.failPending(teardown, channelID: channelID)
        self.finishConsumers(channelID: channelID, error: teardown.error)
        if let context = self.channels.removeValue(forKey: channelID) {
            context.channel?.recordClose(teardown.error)
            context.returns.finish()
            for queued in context.waitingPublishes {
                queued.promise.fail(teardown.error ?? AMQPError.channelClosed(channelID))
            }
        }
        if let request = teardown.succeededClose, let pending = self.requests.removeValue(forKey: request)?.pending {
            if teardown.error == nil || teardown.sendCloseOK {
                self.requestSucceeded(pending, reply: .method(Method.Channel.CloseOK().method), channelID: channelID)
            } else {
                pending.fail(teardown.error!)
            }
        }
        // The id is free again only now: the broker has forgotten the channel as well.
        if self.connection.isOpen {
            self.allocator.release(channelID)
        }
    }

    func failPending(_ teardown: ChannelStateMachine.Teardown, channelID: UInt16) {
        let error = teardown.error ?? AMQPError.channelClosed(channelID)
        for request in teardown.failedRequests {
            self.requests.removeValue(forKey: request)?.pending.fail(error)
        }
        for tag in teardown.failedConfirms {
            self.channels[channelID]?.confirms.removeValue(forKey: tag)?.promise.fail(error)
        }
    }

    func finishConsumers(channelID: UInt16, error: AMQPError?) {
        self.flushDeliveries()
        guard let consumers = self.channels[channelID]?.consumers else { return }
        self.channels[channelID]?.consumers.removeAll()
        for entry in consumers.values {
            if entry.paused { self.consumerResumed() }
            entry.sink.finish(error)
        }
    }

    // MARK: Consumer demand

    /// A consumer's buffer drained below its low watermark: reading may resume.
    func consumerDemanded(channelID: UInt16, key: UInt64) {
        guard let (tag, entry) = self.channels[channelID]?.consumers.first(where: { $0.value.key == key }), entry.paused else { return }
        self.channels[channelID]?.consumers[tag]?.paused = false
        self.consumerResumed()
    }

    /// The application stopped iterating a consumer: cancel it at the broker.
    func consumerTerminated(channelID: UInt16, key: UInt64) {
        guard let (tag, entry) = self.channels[channelID]?.consumers.first(where: { $0.value.key == key }), !entry.terminated else { return }
        self.channels[channelID]?.consumers[tag]?.terminated = true
        if entry.paused {
            self.channels[channelID]?.consumers[tag]?.paused = false
            self.consumerResumed()
        }
        self.sendRequest(channelID: channelID, method: Method.Basic.Cancel(consumerTag: tag).method, pending: .cancel(nil, tag: tag))
    }
}
