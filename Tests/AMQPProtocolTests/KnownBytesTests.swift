import AMQPProtocol
import NIOCore
import Testing

/// Byte sequences worked out by hand from the spec, so the codec is checked against the wire
/// format and not only against itself.
@Suite("Known bytes")
struct KnownBytesTests {
    @Test("connection.start-ok with a one-entry table")
    func startOK() throws {
        let frame = Frame(channel: 0, payload: .method(.connectionStartOK(.init(
            clientProperties: ["product": "w"],
            mechanism: "PLAIN",
            response: ByteBuffer(bytes: [0, 0x61, 0, 0x62]),
            locale: "en_US"
        ))))
        let expected: [UInt8] =
            [1, 0, 0, 0, 0, 0, 42]  // method frame, channel 0, size 42
            + [0, 10, 0, 11]  // connection.start-ok
            + [0, 0, 0, 14, 7] + Array("product".utf8) + [UInt8(ascii: "S"), 0, 0, 0, 1, UInt8(ascii: "w")]
            + [5] + Array("PLAIN".utf8)
            + [0, 0, 0, 4, 0, 0x61, 0, 0x62]
            + [5] + Array("en_US".utf8)
            + [0xCE]
        let buffer = try encoded(frame)
        #expect(buffer.bytes == expected)
        #expect(try decodeAll(buffer) == [frame])
    }

    @Test("basic.publish packs mandatory and immediate into one octet")
    func publish() throws {
        let frame = Frame(channel: 1, payload: .method(.basicPublish(.init(
            exchange: "ex",
            routingKey: "rk",
            mandatory: true,
            immediate: false
        ))))
        let expected: [UInt8] = [
            1, 0, 1, 0, 0, 0, 13,
            0, 60, 0, 40,
            0, 0,  // ticket
            2, UInt8(ascii: "e"), UInt8(ascii: "x"),
            2, UInt8(ascii: "r"), UInt8(ascii: "k"),
            0b01,
            0xCE,
        ]
        let buffer = try encoded(frame)
        #expect(buffer.bytes == expected)
        #expect(try decodeAll(buffer) == [frame])

        var immediateOnly = ByteBuffer()
        try Method.basicPublish(.init(immediate: true)).encode(into: &immediateOnly)
        #expect(immediateOnly.bytes.last == 0b10)
    }

    @Test("queue.declare packs five bits, lowest first, then the arguments table")
    func queueDeclare() throws {
        let method = Method.queueDeclare(.init(
            queue: "q",
            passive: false,
            durable: true,
            exclusive: false,
            autoDelete: true,
            noWait: true,
            arguments: ["x-max-length": .int32(10)]
        ))
        var buffer = ByteBuffer()
        try method.encode(into: &buffer)
        let expected: [UInt8] =
            [0, 50, 0, 10, 0, 0, 1, UInt8(ascii: "q")]
            + [0b11010]
            + [0, 0, 0, 18, 12] + Array("x-max-length".utf8) + [UInt8(ascii: "I"), 0, 0, 0, 10]
        #expect(buffer.bytes == expected)
        #expect(try Method.decode(from: &buffer) == method)
    }

    @Test("basic.nack packs multiple and requeue; exchange.declare puts internal at bit 3")
    func nackAndExchangeDeclare() throws {
        var buffer = ByteBuffer()
        try Method.basicNack(.init(deliveryTag: 0x0102, multiple: true, requeue: false)).encode(into: &buffer)
        #expect(buffer.bytes == [0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 1, 2, 0b01])
        buffer.clear()
        try Method.exchangeDeclare(.init(exchange: "e", type: "topic", durable: true, internal: true)).encode(into: &buffer)
        #expect(buffer.bytes == [0, 40, 0, 10, 0, 0, 1, UInt8(ascii: "e"), 5] + Array("topic".utf8) + [0b1010, 0, 0, 0, 0])
        buffer.clear()
        try Method.connectionTuneOK(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)).encode(into: &buffer)
        #expect(buffer.bytes == [0, 10, 0, 31, 0x07, 0xFF, 0, 2, 0, 0, 0, 60])
    }

    @Test("a content header with content-type and delivery-mode")
    func contentHeader() throws {
        let frame = Frame(channel: 3, payload: .header(ContentHeader(
            bodySize: 5,
            properties: BasicProperties(contentType: "a/b", deliveryMode: 2)
        )))
        let expected: [UInt8] = [
            2, 0, 3, 0, 0, 0, 19,
            0, 60, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 5,
            0b1001_0000, 0,  // flags: content-type (15) and delivery-mode (12)
            3, UInt8(ascii: "a"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            2,
            0xCE,
        ]
        let buffer = try encoded(frame)
        #expect(buffer.bytes == expected)
        #expect(try decodeAll(buffer) == [frame])
    }

    @Test("heartbeat, body and protocol header")
    func smallFrames() throws {
        #expect(try encoded(.heartbeat).bytes == [8, 0, 0, 0, 0, 0, 0, 0xCE])
        let body = Frame(channel: 2, payload: .body(ByteBuffer(bytes: [0xAA, 0xBB])))
        #expect(try encoded(body).bytes == [3, 0, 2, 0, 0, 0, 2, 0xAA, 0xBB, 0xCE])
        var header = ByteBuffer()
        AMQPProtocolHeader.amqp091.encode(into: &header)
        #expect(header.bytes == Array("AMQP".utf8) + [0, 0, 9, 1])
    }
}
