import AMQPProtocol
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private static let sampleFrames: [Frame] = [
        .heartbeat,
        Frame(channel: 0, payload: .method(.connectionTune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)))),
        Frame(channel: 1, payload: .method(.basicDeliver(.init(
            consumerTag: "ctag", deliveryTag: 42, redelivered: true, exchange: "chat.room", routingKey: ""
        )))),
        Frame(channel: 1, payload: .header(ContentHeader(bodySize: 5, properties: BasicProperties(contentType: "text/plain")))),
        Frame(channel: 1, payload: .body(ByteBuffer(string: "hello"))),
        Frame(channel: 7, payload: .body(ByteBuffer())),
    ]

    @Test("byte-at-a-time and many-per-buffer decoding (ByteToMessageDecoderVerifier)")
    func verifier() throws {
        let pairs = try Self.sampleFrames.map { (try encoded($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { AMQPFrameDecoder() }
    }

    @Test("several frames packed in one buffer, the last one partial")
    func packedFrames() throws {
        var buffer = ByteBuffer()
        for frame in Self.sampleFrames {
            try frame.encode(into: &buffer)
        }
        let partial = try encoded(Frame(channel: 1, payload: .body(ByteBuffer(string: "more"))))
        buffer.writeImmutableBuffer(partial.getSlice(at: 0, length: 9)!)
        var decoder = AMQPFrameDecoder()
        var frames: [Frame] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            frames.append(frame)
        }
        #expect(frames == Self.sampleFrames)
        #expect(buffer.readableBytes == 9, "the partial frame is left unconsumed")
    }

    @Test("a frame of exactly frame-max passes; one byte more is rejected from its header alone")
    func frameMax() throws {
        let frameMax: UInt32 = 4096
        let fits = Frame(channel: 1, payload: .body(ByteBuffer(repeating: 0x61, count: Int(frameMax) - 8)))
        let fitsBytes = try encoded(fits, maxFrameSize: frameMax)
        #expect(fitsBytes.readableBytes == Int(frameMax))
        #expect(try decodeAll(fitsBytes, decoder: AMQPFrameDecoder(maxFrameSize: frameMax)) == [fits])

        let over = Frame(channel: 1, payload: .body(ByteBuffer(repeating: 0x61, count: Int(frameMax) - 7)))
        #expect(throws: AMQPProtocolError.self) { try encoded(over, maxFrameSize: frameMax) }
        // Only the 7-byte header arrives: the decoder rejects it without waiting for the payload.
        var headerOnly = try encoded(over).getSlice(at: 0, length: 7)!
        var decoder = AMQPFrameDecoder(maxFrameSize: frameMax)
        #expect {
            try decoder.decode(buffer: &headerOnly)
        } throws: { error in
            let error = error as? AMQPProtocolError
            return error?.code == .frameTooLarge && error?.replyCode == .frameError
        }
    }

    @Test("the hard cap applies before tune and with frame-max 0")
    func hardCap() throws {
        var header = ByteBuffer(bytes: [3, 0, 1, 0xFF, 0xFF, 0xFF, 0xF0])
        var decoder = AMQPFrameDecoder()
        #expect(decoder.effectiveFrameSizeLimit == AMQPFrameDecoder.defaultHardFrameSizeLimit)
        #expect(throws: AMQPProtocolError.self) { try decoder.decode(buffer: &header) }
        decoder.maxFrameSize = 131_072
        #expect(decoder.effectiveFrameSizeLimit == 131_072)
        var small = AMQPFrameDecoder(maxFrameSize: 0, hardFrameSizeLimit: 16)
        var body = try encoded(Frame(channel: 1, payload: .body(ByteBuffer(repeating: 0, count: 9))))
        #expect(throws: AMQPProtocolError.self) { try small.decode(buffer: &body) }
    }

    private func expectError(_ bytes: [UInt8], _ code: AMQPProtocolError.Code, replyCode: ReplyCode?) {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = AMQPFrameDecoder()
        #expect {
            try decoder.decode(buffer: &buffer)
        } throws: { error in
            let error = error as? AMQPProtocolError
            return error?.code == code && error?.replyCode == replyCode
        }
    }

    @Test("a frame-end octet other than 0xCE is rejected")
    func badFrameEnd() {
        self.expectError([8, 0, 0, 0, 0, 0, 0, 0xCD], .invalidFrameEnd, replyCode: .frameError)
        self.expectError([3, 0, 1, 0, 0, 0, 1, 0x61, 0x00], .invalidFrameEnd, replyCode: .frameError)
    }

    @Test("an unknown frame type is rejected as soon as its first byte arrives")
    func unknownType() {
        self.expectError([4], .unknownFrameType, replyCode: .frameError)
        self.expectError([0, 0, 0, 0, 0, 0, 0, 0xCE], .unknownFrameType, replyCode: .frameError)
        self.expectError([UInt8(ascii: "A"), UInt8(ascii: "X")], .unknownFrameType, replyCode: .frameError)
    }

    @Test("a heartbeat on channel 1 is an unexpected frame (505); one with a payload is a frame error")
    func badHeartbeats() {
        self.expectError([8, 0, 1, 0, 0, 0, 0, 0xCE], .unexpectedFrame, replyCode: .unexpectedFrame)
        self.expectError([8, 0, 0, 0, 0, 0, 1, 0, 0xCE], .invalidHeartbeat, replyCode: .frameError)
    }

    @Test("a method payload with trailing bytes, or cut short, is rejected with its method named")
    func payloadOverAndUnderrun() {
        // basic.ack: delivery-tag (8) + bits (1); one byte too many, then one too few.
        self.expectError(
            [1, 0, 1, 0, 0, 0, 14, 0, 60, 0, 80] + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0] + [0xCE],
            .trailingBytes, replyCode: .frameError
        )
        self.expectError(
            [1, 0, 1, 0, 0, 0, 12, 0, 60, 0, 80] + [0, 0, 0, 0, 0, 0, 0, 1] + [0xCE],
            .truncated, replyCode: .syntaxError
        )
        var buffer = ByteBuffer(bytes: [1, 0, 1, 0, 0, 0, 12, 0, 60, 0, 80] + [0, 0, 0, 0, 0, 0, 0, 1] + [0xCE])
        var decoder = AMQPFrameDecoder()
        #expect {
            try decoder.decode(buffer: &buffer)
        } throws: { error in
            let error = error as? AMQPProtocolError
            return error?.classID == 60 && error?.methodID == 80
        }
        self.expectError([1, 0, 1, 0, 0, 0, 2, 0, 60, 0xCE], .truncated, replyCode: .syntaxError)
        self.expectError([1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 99, 0xCE], .unknownMethod, replyCode: .commandInvalid)
    }

    @Test("a short string running past the payload is a typed error")
    func shortStringOverrun() {
        // basic.consume-ok with a consumer tag claiming 9 bytes but holding 1.
        self.expectError([1, 0, 1, 0, 0, 0, 6, 0, 60, 0, 21, 9, 0x61, 0xCE], .lengthOutOfBounds, replyCode: .syntaxError)
    }

    @Test("padding after the properties of a content header is skipped")
    func headerPadding() throws {
        var frameBytes = try encoded(Frame(channel: 1, payload: .header(ContentHeader(bodySize: 1)))).bytes
        frameBytes.removeLast()
        frameBytes += [0, 0, 0, 0xCE]
        frameBytes[6] += 3
        let frames = try decodeAll(ByteBuffer(bytes: frameBytes + [8, 0, 0, 0, 0, 0, 0, 0xCE]))
        #expect(frames == [Frame(channel: 1, payload: .header(ContentHeader(bodySize: 1))), .heartbeat])
    }

    @Test("a server answering with its own protocol header is a version mismatch")
    func protocolHeaderMismatch() throws {
        var header = ByteBuffer()
        AMQPProtocolHeader(protocolID: 1, major: 1, minor: 0, revision: 0).encode(into: &header)
        var decoder = AMQPFrameDecoder()
        var partial = header.getSlice(at: 0, length: 5)!
        #expect(try decoder.decode(buffer: &partial) == nil, "waits for all 8 bytes")
        #expect {
            try decoder.decode(buffer: &header)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .protocolVersionMismatch
        }
    }

    @Test("the protocol header decodes, waits for 8 bytes and rejects other bytes")
    func protocolHeader() throws {
        var buffer = ByteBuffer()
        AMQPProtocolHeader.amqp091.encode(into: &buffer)
        var short = buffer.getSlice(at: 0, length: 7)!
        #expect(try AMQPProtocolHeader.decode(from: &short) == nil)
        #expect(short.readableBytes == 7)
        #expect(try AMQPProtocolHeader.decode(from: &buffer) == .amqp091)
        #expect(AMQPProtocolHeader.amqp091.description == "AMQP 0-9-1")
        var http = ByteBuffer(string: "HTTP/1.1 400")
        #expect(throws: AMQPProtocolError.self) { try AMQPProtocolHeader.decode(from: &http) }
    }

    @Test("at end of input a partial frame stays undecoded")
    func decodeLast() throws {
        var buffer = try encoded(.heartbeat)
        buffer.writeBytes([3, 0, 1])
        var decoder = AMQPFrameDecoder()
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == .heartbeat)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
        #expect(buffer.readableBytes == 3)
    }

    @Test("incomplete input gives nil and consumes nothing")
    func incomplete() throws {
        let bytes = try encoded(Self.sampleFrames[2])
        for length in 0..<bytes.readableBytes {
            var slice = bytes.getSlice(at: 0, length: length)!
            var decoder = AMQPFrameDecoder()
            #expect(try decoder.decode(buffer: &slice) == nil)
            #expect(slice.readableBytes == length)
        }
    }
}
