import AMQPProtocol
import NIOCore
import NIOEmbedded
import Testing

@Suite("Pipeline")
struct PipelineTests {
    @Test("frames written through the encoder come back through the decoder")
    func embeddedRoundTrip() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(AMQPFrameEncoder(maxFrameSize: 4096)))
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMQPFrameDecoder(maxFrameSize: 4096)))
        let frames = try Frame.contentFrames(
            method: .basicPublish(.init(routingKey: "q")),
            properties: BasicProperties(headers: ["k": "v"]),
            body: ByteBuffer(repeating: 1, count: 10_000),
            channel: 1,
            maxFrameSize: 4096
        ) + [.heartbeat]
        for frame in frames {
            try channel.writeOutbound(frame)
        }
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) {
            try channel.writeInbound(bytes)
        }
        var received: [Frame] = []
        while let frame = try channel.readInbound(as: Frame.self) {
            received.append(frame)
        }
        #expect(received == frames)
        _ = try channel.finish()
    }

    @Test("the encoder rejects a frame over frame-max and writes nothing")
    func encoderRejectsOversize() throws {
        let encoder = AMQPFrameEncoder(maxFrameSize: 4096)
        var out = ByteBuffer()
        let fits = Frame(channel: 1, payload: .body(ByteBuffer(repeating: 0, count: 4088)))
        try encoder.encode(data: fits, out: &out)
        #expect(out.readableBytes == 4096)
        out.clear()
        let over = Frame(channel: 1, payload: .body(ByteBuffer(repeating: 0, count: 4089)))
        #expect {
            try encoder.encode(data: over, out: &out)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .frameTooLarge
        }
        #expect(out.readableBytes == 0)
        // A header frame too large for frame-max is caught the same way.
        let bigHeader = Frame(channel: 1, payload: .header(ContentHeader(
            bodySize: 0, properties: BasicProperties(headers: ["k": .byteArray(ByteBuffer(repeating: 0, count: 5000))])
        )))
        #expect(throws: AMQPProtocolError.self) { try encoder.encode(data: bigHeader, out: &out) }
        #expect(out.readableBytes == 0)
    }

    @Test("errors describe themselves")
    func errorDescription() {
        let error = AMQPProtocolError(code: .frameTooLarge, replyCode: .frameError, classID: 60, methodID: 40, message: "m")
        #expect(error.description == "AMQPProtocolError(frameTooLarge, reply code 501, method 60.40): m")
        #expect(ReplyCode.notFound.rawValue == 404 && !ReplyCode.notFound.isConnectionError)
        #expect(ReplyCode.frameError.isConnectionError)
    }
}
