import AMQPProtocol
import NIOCore
import Testing

@Suite("Basic properties")
struct BasicPropertiesTests {
    /// Properties with exactly the properties whose flag bits are in `flags` set.
    private func properties(flags: UInt16) -> BasicProperties {
        func has(_ bit: Int) -> Bool { flags & (1 << bit) != 0 }
        return BasicProperties(
            contentType: has(15) ? "application/json" : nil,
            contentEncoding: has(14) ? "gzip" : nil,
            headers: has(13) ? ["x-retry": .int32(3)] : nil,
            deliveryMode: has(12) ? 2 : nil,
            priority: has(11) ? 9 : nil,
            correlationID: has(10) ? "corr" : nil,
            replyTo: has(9) ? "amq.rabbitmq.reply-to" : nil,
            expiration: has(8) ? "60000" : nil,
            messageID: has(7) ? "id-1" : nil,
            timestamp: has(6) ? 1_700_000_000 : nil,
            type: has(5) ? "post" : nil,
            userID: has(4) ? "guest" : nil,
            appID: has(3) ? "warren" : nil,
            clusterID: has(2) ? "" : nil
        )
    }

    @Test("all 2^14 combinations of properties round-trip, each with its flag bits")
    func everyCombination() throws {
        var buffer = ByteBuffer()
        for subset in 0..<(1 << 14) {
            let flags = UInt16(subset) << 2
            let properties = self.properties(flags: flags)
            #expect(properties.flags == flags)
            buffer.clear()
            try properties.encode(into: &buffer)
            #expect(buffer.getInteger(at: 0, as: UInt16.self) == flags)
            let decoded = try BasicProperties.decode(from: &buffer)
            if decoded != properties || buffer.readableBytes != 0 {
                Issue.record("flags 0x\(String(flags, radix: 16)) did not round-trip")
                return
            }
        }
    }

    @Test("the continuation bit and the undefined bit 1 are rejected", arguments: [UInt16(0b01), 0b10, 0x8001])
    func undefinedFlags(flags: UInt16) {
        var buffer = ByteBuffer()
        buffer.writeInteger(flags)
        buffer.writeBytes([0, 0, 0, 0])
        #expect {
            try BasicProperties.decode(from: &buffer)
        } throws: { error in
            let error = error as? AMQPProtocolError
            return error?.code == .invalidPropertyFlags && error?.replyCode == .frameError
        }
    }

    @Test("a too-long short-string property is rejected on encode")
    func longProperty() {
        let header = ContentHeader(bodySize: 0, properties: BasicProperties(messageID: String(repeating: "m", count: 300)))
        var buffer = ByteBuffer()
        #expect(throws: AMQPProtocolError.self) { try header.encode(into: &buffer) }
        #expect(buffer.readableBytes == 0)
    }

    @Test("a content header for another class is a typed error")
    func otherClass() {
        var buffer = ByteBuffer(bytes: [0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect {
            try ContentHeader.decode(from: &buffer)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .unknownContentClass
        }
    }
}
