import AMQPProtocol
import NIOCore
import Testing

@Suite("Body frames")
struct BodyFramesTests {
    private func payloadSizes(_ frames: [Frame]) -> [Int] {
        frames.map { frame in
            guard case .body(let bytes) = frame.payload else { return -1 }
            return bytes.readableBytes
        }
    }

    @Test("a body of 2 × frame-max is split into frames of at most frame-max − 8")
    func twiceFrameMax() throws {
        let frameMax: UInt32 = 4096
        let body = ByteBuffer(bytes: (0..<8192).map { UInt8(truncatingIfNeeded: $0) })
        let frames = try Frame.bodyFrames(for: body, channel: 3, maxFrameSize: frameMax)
        #expect(self.payloadSizes(frames) == [4088, 4088, 16])
        var joined = ByteBuffer()
        for frame in frames {
            #expect(frame.channel == 3)
            guard case .body(var bytes) = frame.payload else { continue }
            #expect(try encoded(frame, maxFrameSize: frameMax).readableBytes <= Int(frameMax))
            joined.writeBuffer(&bytes)
        }
        #expect(joined == body)
    }

    @Test("exact multiples, one byte, an empty body and frame-max 0")
    func edges() throws {
        #expect(self.payloadSizes(try Frame.bodyFrames(for: ByteBuffer(repeating: 1, count: 8176), channel: 1, maxFrameSize: 4096)) == [4088, 4088])
        #expect(self.payloadSizes(try Frame.bodyFrames(for: ByteBuffer(repeating: 1, count: 1), channel: 1, maxFrameSize: 4096)) == [1])
        #expect(try Frame.bodyFrames(for: ByteBuffer(), channel: 1, maxFrameSize: 4096).isEmpty)
        #expect(self.payloadSizes(try Frame.bodyFrames(for: ByteBuffer(repeating: 1, count: 100_000), channel: 1, maxFrameSize: 0)) == [100_000])
        #expect(self.payloadSizes(try Frame.bodyFrames(for: ByteBuffer(repeating: 1, count: 3), channel: 1, maxFrameSize: 9)) == [1, 1, 1])
    }

    @Test("a frame-max that leaves no room for a body byte is a typed error", arguments: [UInt32(1), 8])
    func tinyFrameMax(frameMax: UInt32) {
        #expect {
            try Frame.bodyFrames(for: ByteBuffer(bytes: [1]), channel: 1, maxFrameSize: frameMax)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .invalidFrameMax
        }
    }

    @Test("content frames: method, header with the body size, then the body; empty body has no body frame")
    func contentFrames() throws {
        let publish = Method.basicPublish(.init(exchange: "chat.room", routingKey: ""))
        let properties = BasicProperties(contentType: "application/json", deliveryMode: 2)
        let frames = try Frame.contentFrames(
            method: publish, properties: properties, body: ByteBuffer(repeating: 7, count: 5000),
            channel: 2, maxFrameSize: 4096
        )
        #expect(frames.count == 4)
        #expect(frames[0] == Frame(channel: 2, payload: .method(publish)))
        #expect(frames[1] == Frame(channel: 2, payload: .header(ContentHeader(bodySize: 5000, properties: properties))))
        #expect(self.payloadSizes(Array(frames[2...])) == [4088, 912])

        let empty = try Frame.contentFrames(method: publish, properties: properties, body: ByteBuffer(), channel: 2, maxFrameSize: 4096)
        #expect(empty.count == 2)
    }
}
