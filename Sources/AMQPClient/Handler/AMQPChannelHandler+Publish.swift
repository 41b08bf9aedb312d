import AMQPProtocol
import NIOCore

extension AMQPChannelHandler {
    /// Publishes a message. The promise completes when the frames are queued for the socket, or
    /// written while the socket is not writable (no confirm mode), or when the broker acks (confirm mode); it fails on a nack. While the broker
    /// blocks the connection, or while the confirm window is full, the publish waits.
    func publish(
        channelID: UInt16,
        publish: Method.Basic.Publish,
        properties: BasicProperties,
        body: ByteBuffer,
        promise: EventLoopPromise<Void>
    ) {
        guard self.connection.isOpen, let channel = self.channels[channelID], channel.machine.isOpen else {
            promise.fail(self.closeError ?? AMQPError.channelClosed(channelID))
            return
        }
        var queued = QueuedPublish(
            id: self.nextQueueID, publish: publish, properties: properties, body: body, promise: promise, startedAt: self.now()
        )
        self.nextQueueID += 1
        if self.blocked {
            let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
            let id = queued.id
            let timeout = self.configuration.blockedPublishTimeout
            queued.timeout = self.eventLoop.scheduleTask(in: timeout) {
                loopBound.value.blockedPublishTimedOut(id: id, after: timeout)
            }
            self.blockedPublishes.append((channelID, queued))
            return
        }
        self.publishOrWait(channelID: channelID, queued)
    }

    private func publishOrWait(channelID: UInt16, _ queued: QueuedPublish) {
        guard let channel = self.channels[channelID] else {
            queued.promise.fail(self.closeError ?? AMQPError.channelClosed(channelID))
            return
        }
        if channel.machine.nextPublishTag != nil,
            channel.machine.outstandingConfirms.count >= self.configuration.maxOutstandingConfirms || !channel.waitingPublishes.isEmpty
        {
            self.channels[channelID]!.waitingPublishes.append(queued)
            return
        }
        self.send(channelID: channelID, queued)
    }

    private func send(channelID: UInt16, _ queued: QueuedPublish) {
        // Encode first: a publish that cannot be encoded must not take a delivery tag.
        let encoded: ByteBuffer
        do {
            let frames = try Frame.contentFrames(
                method: queued.publish.method,
                properties: queued.properties,
                body: queued.body,
                channel: channelID,
                maxFrameSize: self.negotiated?.frameMax ?? 0
            )
            encoded = try self.encode(frames).get()
        } catch let error as AMQPProtocolError {
            queued.promise.fail(AMQPError(protocolError: error))
            return
        } catch {
            queued.promise.fail(error)
            return
        }
        switch self.channels[channelID]!.machine.publishSent() {
        case .failure(let error):
            queued.promise.fail(error)
        case .success(nil):
            // Without confirms the publish is done once its frames are queued for the socket.
            // While the socket keeps up (the channel is writable) the caller goes on at once
            // instead of waiting for the flush on the next loop tick; otherwise it waits for
            // its write to complete, which bounds what piles up in the outbound buffer.
            if let context = self.context, context.channel.isWritable {
                self.writeEncoded(encoded, promise: nil, flush: false)
                queued.promise.succeed()
            } else {
                self.writeEncoded(encoded, promise: queued.promise, flush: false)
            }
        case .success(let tag?):
            self.channels[channelID]!.confirms[tag] = PendingConfirm(promise: queued.promise, startedAt: queued.startedAt)
            self.reportConfirms()
            self.writeEncoded(encoded, promise: nil, flush: false)
            if self.pausedConsumers > 0 { self.resumeReadingIfPossible(force: false) }  // the confirm must be readable
        }
    }

    /// Sends publishes that waited for the confirm window, as far as it allows.
    func drainWaitingPublishes(channelID: UInt16) {
        while let channel = self.channels[channelID], !channel.waitingPublishes.isEmpty,
            channel.machine.outstandingConfirms.count < self.configuration.maxOutstandingConfirms
        {
            let queued = self.channels[channelID]!.waitingPublishes.removeFirst()
            self.send(channelID: channelID, queued)
        }
    }

    func flushBlockedPublishes() {
        while !self.blocked, let (channelID, queued) = self.blockedPublishes.popFirst() {
            queued.timeout?.cancel()
            self.publishOrWait(channelID: channelID, queued)
        }
    }

    private func blockedPublishTimedOut(id: UInt64, after timeout: TimeAmount) {
        guard let index = self.blockedPublishes.firstIndex(where: { $0.publish.id == id }) else { return }
        let (_, queued) = self.blockedPublishes.remove(at: index)
        queued.promise.fail(
            AMQPError(code: .connectionBlockedTimeout, message: "the broker blocked publishing for longer than \(timeout)")
        )
    }
}
