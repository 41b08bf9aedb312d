import AMQPProtocol
import NIOCore
import Testing

@Suite("Method codec")
struct MethodCodecTests {
    @Test("every method round-trips, with every combination of its bits")
    func everyMethodRoundTrips() throws {
        let samples = allMethodSamples()
        var seen = Set<UInt32>()
        for method in samples {
            var buffer = ByteBuffer()
            try method.encode(into: &buffer)
            #expect(buffer.getInteger(at: 0, as: UInt16.self) == method.classID)
            #expect(buffer.getInteger(at: 2, as: UInt16.self) == method.methodID)
            let decoded = try Method.decode(from: &buffer)
            #expect(decoded == method, "\(method.name)")
            #expect(buffer.readableBytes == 0, "\(method.name) left bytes")
            seen.insert(UInt32(method.classID) << 16 | UInt32(method.methodID))
        }
        #expect(seen.count == knownMethodCount)
    }

    @Test("every method round-trips through a frame")
    func everyMethodRoundTripsThroughFrames() throws {
        var buffer = ByteBuffer()
        let frames = allMethodSamples().enumerated().map { index, method in
            Frame(channel: UInt16(index), payload: .method(method))
        }
        for frame in frames {
            try frame.encode(into: &buffer)
        }
        #expect(try decodeAll(buffer) == frames)
    }

    @Test("the typed wrappers wrap and unwrap")
    func typedWrappers() {
        let publish = Method.Basic.Publish(exchange: "x", routingKey: "k", mandatory: true)
        #expect(Method.Basic.Publish(publish.method) == publish)
        #expect(Method.Queue.Declare(publish.method) == nil)
        #expect(publish.method.name == "basic.publish")
        #expect(publish.method.hasContent)
        #expect(!Method.Basic.Ack().method.isSynchronous)
        #expect(Method.Queue.Declare(queue: "q").method.isSynchronous)
        #expect(Method.Confirm.Select.classID == 85 && Method.Confirm.Select.methodID == 10)
        #expect(Method.Basic.Nack.methodID == 120)
        #expect(Method.Connection.UpdateSecretOK.methodID == 71)
        #expect(Method.Exchange.UnbindOK.methodID == 51)
    }

    @Test("a short string over 255 bytes is rejected on encode, and nothing is written")
    func longShortStringIsRejected() throws {
        let method = Method.queueDeclare(.init(queue: String(repeating: "q", count: 256)))
        var buffer = ByteBuffer()
        #expect {
            try method.encode(into: &buffer)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .valueTooLong
        }
        var frameBuffer = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: AMQPProtocolError.self) {
            try Frame(channel: 1, payload: .method(method)).encode(into: &frameBuffer)
        }
        #expect(frameBuffer.bytes == [1, 2, 3])
    }

    @Test("a multi-byte character counts as its UTF-8 bytes")
    func shortStringLimitCountsBytes() throws {
        var buffer = ByteBuffer()
        // 128 two-byte characters: 256 bytes, one over.
        let method = Method.basicPublish(.init(routingKey: String(repeating: "é", count: 128)))
        #expect(throws: AMQPProtocolError.self) { try method.encode(into: &buffer) }
        let fits = Method.basicPublish(.init(routingKey: String(repeating: "é", count: 127) + "x"))
        try fits.encode(into: &buffer)
    }

    @Test("an unknown class or method id is a typed error with reply code 503")
    func unknownMethod() {
        for (classID, methodID) in [(60, 41), (99, 10), (0, 0), (30, 12)] as [(UInt16, UInt16)] {
            var buffer = ByteBuffer()
            buffer.writeInteger(classID)
            buffer.writeInteger(methodID)
            #expect {
                try Method.decode(from: &buffer)
            } throws: { error in
                let error = error as? AMQPProtocolError
                return error?.code == .unknownMethod && error?.replyCode == .commandInvalid
                    && error?.classID == classID && error?.methodID == methodID
            }
        }
    }
}
