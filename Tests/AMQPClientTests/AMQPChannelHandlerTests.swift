import AMQPProtocol
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

/// The handler on an EmbeddedChannel: bytes in, bytes out, no network.
@Suite("AMQPChannelHandler")
struct AMQPChannelHandlerTests {
    struct Harness {
        let channel: EmbeddedChannel
        let handler: AMQPChannelHandler

        init(frameMax: UInt32 = 4096, maxOutstandingConfirms: Int = 1024) throws {
            var configuration = AMQPConfiguration(user: "u", password: "p", virtualHost: "v", frameMax: frameMax)
            configuration.consumerBufferSize = 2
            configuration.maxOutstandingConfirms = maxOutstandingConfirms
            configuration.blockedPublishTimeout = .seconds(5)
            let channel = EmbeddedChannel()
            let handler = AMQPChannelHandler(configuration: configuration, logger: Logger(label: "test"), eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(handler)
            self.channel = channel
            self.handler = handler
        }

        func send(_ frames: Frame...) throws {
            var buffer = ByteBuffer()
            for frame in frames { try frame.encode(into: &buffer) }
            try self.channel.writeInbound(buffer)
        }

        func sent() throws -> [Frame] {
            self.channel.embeddedEventLoop.run()  // deferred flushes
            var frames: [Frame] = []
            while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                if buffer.getBytes(at: 0, length: 4) == Array("AMQP".utf8) {
                    buffer.moveReaderIndex(forwardBy: 8)
                }
                while let frame = try Frame.decode(from: &buffer, maxFrameSize: 1 << 24) {
                    frames.append(frame)
                }
            }
            return frames
        }

        func sentMethods() throws -> [Method] {
            try self.sent().compactMap { if case .method(let method) = $0.payload { method } else { nil } }
        }

        /// Connects and completes the handshake, as a broker with the given tune would.
        func open(tune: Method.Connection.Tune = .init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)) throws {
            try self.channel.connect(to: .init(ipAddress: "127.0.0.1", port: 5672)).wait()
            let header = try #require(try self.channel.readOutbound(as: ByteBuffer.self))
            #expect(Array(header.readableBytesView) == Array("AMQP".utf8) + [0, 0, 9, 1])
            try self.send(Frame(channel: 0, payload: .method(Method.Connection.Start(serverProperties: [:]).method)))
            let startOK = try self.sentMethods()
            guard case .connectionStartOK(let ok) = startOK.first else {
                Issue.record("expected start-ok, got \(startOK)")
                return
            }
            #expect(ok.mechanism == "PLAIN")
            try self.send(Frame(channel: 0, payload: .method(tune.method)))
            let afterTune = try self.sentMethods()
            #expect(afterTune.count == 2)
            guard case .connectionTuneOK(let tuneOK) = afterTune.first, case .connectionOpen(let open) = afterTune.last else {
                Issue.record("expected tune-ok and open, got \(afterTune)")
                return
            }
            #expect(tuneOK.frameMax == min(4096, tune.frameMax == 0 ? 4096 : tune.frameMax))
            #expect(open.virtualHost == "v")
            try self.send(Frame(channel: 0, payload: .method(Method.Connection.OpenOK().method)))
        }

        /// Opens channel 1 and returns its AMQPChannel.
        func openChannel() throws -> AMQPChannel {
            let promise = self.channel.eventLoop.makePromise(of: UInt16.self)
            let (returns, continuation) = AsyncStream.makeStream(of: AMQPReturnedMessage.self)
            self.handler.openChannel(returns: continuation, promise: promise)
            #expect(try self.sent() == [Frame(channel: 1, payload: .method(Method.Channel.Open().method))])
            try self.send(Frame(channel: 1, payload: .method(Method.Channel.OpenOK().method)))
            let id = try promise.futureResult.wait()
            #expect(id == 1)
            let connection = AMQPConnection(
                nioChannel: self.channel,
                handler: NIOLoopBound(self.handler, eventLoop: self.channel.eventLoop),
                configuration: self.handler.configuration,
                logger: Logger(label: "test"),
                negotiated: .init(frameMax: 4096, channelMax: 2047, heartbeat: 60),
                closed: self.handler.closedPromise.futureResult
            )
            let amqpChannel = AMQPChannel(id: id, connection: connection, returns: returns)
            self.handler.channelObjectCreated(amqpChannel)
            return amqpChannel
        }
    }

    @Test func handshakeNegotiatesAndConnects() throws {
        let harness = try Harness()
        try harness.open()
        let negotiated = try harness.handler.connectPromise.futureResult.wait()
        #expect(negotiated == .init(frameMax: 4096, channelMax: 2047, heartbeat: 60))
        #expect(harness.handler.decoder.maxFrameSize == 4096)
        _ = try? harness.channel.finish()
    }

    @Test func wrongPasswordFailsConnectWithAccessRefused() throws {
        let harness = try Harness()
        try harness.channel.connect(to: .init(ipAddress: "127.0.0.1", port: 5672)).wait()
        _ = try harness.sent()
        try harness.send(Frame(channel: 0, payload: .method(Method.Connection.Start(serverProperties: [:]).method)))
        _ = try harness.sent()
        try harness.send(
            Frame(channel: 0, payload: .method(Method.Connection.Close(replyCode: 403, replyText: "ACCESS_REFUSED", classID: 10, methodID: 11).method))
        )
        #expect(try harness.sentMethods() == [Method.Connection.CloseOK().method])
        #expect(!harness.channel.isActive)
        #expect(throws: AMQPError.self) { try harness.handler.connectPromise.futureResult.wait() }
        do {
            _ = try harness.handler.connectPromise.futureResult.wait()
        } catch let error as AMQPError {
            #expect(error.code == .accessRefused)
        }
    }

    @Test func publishSplitsTheBodyAtFrameMaxMinus8() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        let promise = harness.channel.eventLoop.makePromise(of: Void.self)
        let body = ByteBuffer(repeating: 7, count: 10_000)
        harness.handler.publish(
            channelID: 1,
            publish: Method.Basic.Publish(routingKey: "q"),
            properties: BasicProperties(contentType: "x"),
            body: body,
            promise: promise
        )
        let frames = try harness.sent()
        #expect(frames.count == 5)
        #expect(frames[0] == Frame(channel: 1, payload: .method(Method.Basic.Publish(routingKey: "q").method)))
        #expect(frames[1] == Frame(channel: 1, payload: .header(ContentHeader(bodySize: 10_000, properties: BasicProperties(contentType: "x")))))
        let sizes = frames.dropFirst(2).map { frame -> Int in
            if case .body(let bytes) = frame.payload { bytes.readableBytes } else { -1 }
        }
        #expect(sizes == [4088, 4088, 1824])
        try promise.futureResult.wait()
        _ = try? harness.channel.finish()
    }

    @Test func publishWithoutConfirmsCompletesOnceQueuedWhileWritableAndOnceWrittenOtherwise() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        _ = try harness.sent()

        let queued = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(string: "a"), promise: queued)
        let queuedDone = Received()
        queued.futureResult.whenSuccess { queuedDone.finished.append(nil) }
        #expect(queuedDone.finished.count == 1, "complete at once: the socket keeps up")
        #expect(try harness.channel.readOutbound(as: ByteBuffer.self) == nil, "the flush comes later, on the loop")

        harness.channel.isWritable = false
        let written = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(string: "b"), promise: written)
        let writtenDone = Received()
        written.futureResult.whenSuccess { writtenDone.finished.append(nil) }
        #expect(writtenDone.finished.isEmpty, "over the high watermark a publish waits for its write")
        let frames = try harness.sent()  // runs the loop: the flush writes both
        #expect(frames.count == 6)
        #expect(writtenDone.finished.count == 1)
        _ = try? harness.channel.finish()
    }

    @Test func confirmModePublishCompletesOnAckAndFailsOnNack() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        let select = harness.channel.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        harness.handler.sendRequest(channelID: 1, method: Method.Confirm.Select().method, pending: .reply(select))
        try harness.send(Frame(channel: 1, payload: .method(Method.Confirm.SelectOK().method)))
        _ = try select.futureResult.wait()
        let first = harness.channel.eventLoop.makePromise(of: Void.self)
        let second = harness.channel.eventLoop.makePromise(of: Void.self)
        for promise in [first, second] {
            harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(), promise: promise)
        }
        _ = try harness.sent()
        let firstDone = Received()
        first.futureResult.whenSuccess { firstDone.finished.append(nil) }
        #expect(firstDone.finished.isEmpty)
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Ack(deliveryTag: 1).method)))
        #expect(firstDone.finished.count == 1)
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Nack(deliveryTag: 2).method)))
        #expect(throws: AMQPError.self) { try second.futureResult.wait() }
        _ = try? harness.channel.finish()
    }

    final class Received: @unchecked Sendable {
        var deliveries: [AMQPDelivery] = []
        var finished: [AMQPError?] = []
    }

    @Test func deliveryBytesInReachTheConsumer() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        let received = Received()
        let tag = harness.channel.eventLoop.makePromise(of: String.self)
        harness.handler.sendRequest(
            channelID: 1,
            method: Method.Basic.Consume(queue: "q").method,
            pending: .consume(tag, key: 1, sink: .callback({ received.deliveries.append($0) }, finished: { received.finished.append($0) }), noAck: false)
        )
        #expect(try harness.sentMethods() == [Method.Basic.Consume(queue: "q").method])
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.ConsumeOK(consumerTag: "ctag").method)))
        #expect(try tag.futureResult.wait() == "ctag")
        // Frames split across reads at awkward places still decode.
        var bytes = ByteBuffer()
        for frame in [
            Frame(channel: 1, payload: .method(Method.Basic.Deliver(consumerTag: "ctag", deliveryTag: 1, exchange: "", routingKey: "k").method)),
            Frame(channel: 1, payload: .header(ContentHeader(bodySize: 11))),
            Frame(channel: 1, payload: .body(ByteBuffer(string: "hello "))),
            Frame(channel: 1, payload: .body(ByteBuffer(string: "world"))),
        ] {
            try frame.encode(into: &bytes)
        }
        while bytes.readableBytes > 0 {
            try harness.channel.writeInbound(bytes.readSlice(length: min(5, bytes.readableBytes))!)
        }
        #expect(received.deliveries.count == 1)
        #expect(received.deliveries.first?.bodyString == "hello world")
        #expect(received.deliveries.first?.deliveryTag == 1)
        #expect(received.deliveries.first?.routingKey == "k")
        // The broker cancels the consumer: the sink finishes with consumerCancelled.
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Cancel(consumerTag: "ctag").method)))
        #expect(received.finished.count == 1)
        #expect(received.finished.first??.code == .consumerCancelled)
        _ = try? harness.channel.finish()
    }

    /// Builds the harness and a consumer that received "hello world" in two body frames;
    /// synchronous because EmbeddedChannel must be driven from one thread.
    static func consumerHarness() throws -> (Harness, AMQPConsumer) {
        let harness = try Harness()
        try harness.open()
        let amqpChannel = try harness.openChannel()
        let sequence = AMQPConsumer.Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2),
            finishOnDeinit: false,
            delegate: ConsumerDemandDelegate(handler: NIOLoopBound(harness.handler, eventLoop: harness.channel.eventLoop), channelID: 1, key: 1)
        )
        let tag = harness.channel.eventLoop.makePromise(of: String.self)
        harness.handler.sendRequest(
            channelID: 1,
            method: Method.Basic.Consume(queue: "q").method,
            pending: .consume(tag, key: 1, sink: .sequence(sequence.source), noAck: false)
        )
        #expect(try harness.sentMethods() == [Method.Basic.Consume(queue: "q").method])
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.ConsumeOK(consumerTag: "ctag").method)))
        #expect(try tag.futureResult.wait() == "ctag")
        try harness.send(
            Frame(channel: 1, payload: .method(Method.Basic.Deliver(consumerTag: "ctag", deliveryTag: 1, exchange: "", routingKey: "k").method)),
            Frame(channel: 1, payload: .header(ContentHeader(bodySize: 11))),
            Frame(channel: 1, payload: .body(ByteBuffer(string: "hello "))),
            Frame(channel: 1, payload: .body(ByteBuffer(string: "world")))
        )
        return (harness, AMQPConsumer(tag: "ctag", channel: amqpChannel, producer: sequence.sequence))
    }

    @Test func fullConsumerBufferStopsSocketReads() throws {
        let (harness, consumer) = try Self.consumerHarness()
        // The buffer holds one delivery; a second reaches the high watermark of 2.
        try harness.send(
            Frame(channel: 1, payload: .method(Method.Basic.Deliver(consumerTag: "ctag", deliveryTag: 2, exchange: "", routingKey: "k").method)),
            Frame(channel: 1, payload: .header(ContentHeader(bodySize: 0)))
        )
        #expect(harness.handler.pausedConsumers == 1)
        let reads = ReadCounter()
        try harness.channel.pipeline.syncOperations.addHandler(reads, position: .first)
        harness.channel.read()
        #expect(reads.count == 0, "a full consumer holds socket reads back")
        // ...but not while a request waits for its reply, or the application could deadlock.
        let declare = harness.channel.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        harness.handler.sendRequest(channelID: 1, method: Method.Queue.Declare(queue: "q").method, pending: .reply(declare))
        #expect(reads.count == 1)
        try harness.send(Frame(channel: 1, payload: .method(Method.Queue.DeclareOK(queue: "q", messageCount: 0, consumerCount: 1).method)))
        _ = try declare.futureResult.wait()
        harness.channel.read()
        #expect(reads.count == 1)
        _ = consumer
        _ = try? harness.channel.finish()
    }

    @Test func brokerChannelCloseAnswersCloseOKAndFailsPending() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        let declare = harness.channel.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        harness.handler.sendRequest(channelID: 1, method: Method.Queue.Declare(queue: "q").method, pending: .reply(declare))
        _ = try harness.sent()
        try harness.send(
            Frame(channel: 1, payload: .method(Method.Channel.Close(replyCode: 406, replyText: "PRECONDITION_FAILED", classID: 50, methodID: 10).method))
        )
        #expect(try harness.sentMethods() == [Method.Channel.CloseOK().method])
        #expect(throws: AMQPError.self) { try declare.futureResult.wait() }
        // The id is free again.
        let reopened = harness.channel.eventLoop.makePromise(of: UInt16.self)
        let (_, continuation) = AsyncStream.makeStream(of: AMQPReturnedMessage.self)
        harness.handler.openChannel(returns: continuation, promise: reopened)
        #expect(try harness.sent() == [Frame(channel: 1, payload: .method(Method.Channel.Open().method))])
        try harness.send(Frame(channel: 1, payload: .method(Method.Channel.OpenOK().method)))
        #expect(try reopened.futureResult.wait() == 1)
        _ = try? harness.channel.finish()
    }

    @Test func malformedFrameClosesTheConnectionWithAFrameError() throws {
        let harness = try Harness()
        try harness.open()
        var bad = ByteBuffer()
        bad.writeBytes([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 41, 0x00])  // frame-end is not 0xCE
        try harness.channel.writeInbound(bad)
        let methods = try harness.sentMethods()
        guard case .connectionClose(let close) = methods.first else {
            Issue.record("expected connection.close, got \(methods)")
            return
        }
        #expect(close.replyCode == 501)
        _ = try? harness.channel.finish()
    }

    /// A frame for a channel that is not open is a connection error (504 CHANNEL_ERROR), as the
    /// AMQP 0-9-1 spec says: a channel stays in the table until its close handshake is done, so
    /// the broker cannot legitimately send on an unknown channel (pika only logs it; we do not).
    @Test func frameForAChannelThatIsNotOpenIsAChannelError() throws {
        let harness = try Harness()
        try harness.open()
        try harness.send(Frame(channel: 7, payload: .method(Method.Channel.CloseOK().method)))
        let methods = try harness.sentMethods()
        guard case .connectionClose(let close) = methods.first else {
            Issue.record("expected connection.close, got \(methods)")
            return
        }
        #expect(close.replyCode == 504)
        _ = try? harness.channel.finish()
    }

    @Test func heartbeatsAreSentAndASilentPeerIsDeclaredDead() throws {
        let harness = try Harness()
        try harness.open(tune: .init(channelMax: 0, frameMax: 0, heartbeat: 2))
        // The timer runs every second; a heartbeat goes out after 2 s without a write.
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try harness.sent().isEmpty)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try harness.sent() == [Frame.heartbeat])
        // Inbound bytes (a heartbeat) keep the peer alive.
        try harness.send(Frame.heartbeat)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try harness.sent() == [Frame.heartbeat])
        // Two intervals (4 s) without a byte: the peer is dead, and the socket is closed at
        // once (no close handshake with a peer that is gone: no 5 s wait for a close-ok).
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!harness.channel.isActive)
        #expect(try harness.sentMethods().isEmpty)
        _ = try? harness.channel.finish()
    }

    @Test func blockedConnectionHoldsPublishesUntilUnblockedOrTimeout() throws {
        let harness = try Harness()
        try harness.open()
        _ = try harness.openChannel()
        try harness.send(Frame(channel: 0, payload: .method(Method.Connection.Blocked(reason: "low on memory").method)))
        let held = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(string: "a"), promise: held)
        #expect(try harness.sent().isEmpty)
        try harness.send(Frame(channel: 0, payload: .method(Method.Connection.Unblocked().method)))
        #expect(try harness.sent().count == 3)
        try held.futureResult.wait()

        try harness.send(Frame(channel: 0, payload: .method(Method.Connection.Blocked(reason: "disk").method)))
        let timedOut = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(string: "b"), promise: timedOut)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        do {
            try timedOut.futureResult.wait()
            Issue.record("expected a timeout")
        } catch let error as AMQPError {
            #expect(error.code == .connectionBlockedTimeout)
        }
        #expect(try harness.sent().isEmpty)
        _ = try? harness.channel.finish()
    }

    @Test func confirmWindowBoundsOutstandingPublishes() throws {
        let harness = try Harness(maxOutstandingConfirms: 2)
        try harness.open()
        _ = try harness.openChannel()
        let select = harness.channel.eventLoop.makePromise(of: ChannelStateMachine.Reply.self)
        harness.handler.sendRequest(channelID: 1, method: Method.Confirm.Select().method, pending: .reply(select))
        try harness.send(Frame(channel: 1, payload: .method(Method.Confirm.SelectOK().method)))
        _ = try select.futureResult.wait()
        _ = try harness.sent()
        let promises = (0..<5).map { _ in harness.channel.eventLoop.makePromise(of: Void.self) }
        for promise in promises {
            harness.handler.publish(channelID: 1, publish: .init(routingKey: "q"), properties: .init(), body: ByteBuffer(), promise: promise)
        }
        func publishedCount() throws -> Int {
            try harness.sentMethods().filter { if case .basicPublish = $0 { true } else { false } }.count
        }
        #expect(try publishedCount() == 2)
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Ack(deliveryTag: 2, multiple: true).method)))
        #expect(try publishedCount() == 2)
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Ack(deliveryTag: 3).method)))
        #expect(try publishedCount() == 1)
        try harness.send(Frame(channel: 1, payload: .method(Method.Basic.Ack(deliveryTag: 5, multiple: true).method)))
        for promise in promises { try promise.futureResult.wait() }
        _ = try? harness.channel.finish()
    }

    @Test func aHandshakeThatNeverFinishesTimesOut() throws {
        let harness = try Harness()
        try harness.channel.connect(to: .init(ipAddress: "127.0.0.1", port: 5672)).wait()
        _ = try harness.sent()  // the protocol header; the "broker" never answers
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        do {
            _ = try harness.handler.connectPromise.futureResult.wait()
            Issue.record("expected a timeout")
        } catch let error as AMQPError {
            #expect(error.code == .timeout)
        }
        #expect(!harness.channel.isActive)
        _ = try? harness.channel.finish()
    }

    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var count = 0

        func read(context: ChannelHandlerContext) {
            self.count += 1
            context.read()
        }
    }
}
