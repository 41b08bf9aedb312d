import NIOCore

extension BasicProperties {
    // Property flag bits, most significant first, in wire order.
    private static let contentTypeFlag: UInt16 = 1 << 15
    private static let contentEncodingFlag: UInt16 = 1 << 14
    private static let headersFlag: UInt16 = 1 << 13
    private static let deliveryModeFlag: UInt16 = 1 << 12
    private static let priorityFlag: UInt16 = 1 << 11
    private static let correlationIDFlag: UInt16 = 1 << 10
    private static let replyToFlag: UInt16 = 1 << 9
    private static let expirationFlag: UInt16 = 1 << 8
    private static let messageIDFlag: UInt16 = 1 << 7
    private static let timestampFlag: UInt16 = 1 << 6
    private static let typeFlag: UInt16 = 1 << 5
    private static let userIDFlag: UInt16 = 1 << 4
    private static let appIDFlag: UInt16 = 1 << 3
    private static let clusterIDFlag: UInt16 = 1 << 2
    /// Bit 0 says another flag word follows; bit 1 is undefined. Basic has 14 properties, so
    /// neither may be set: a property we cannot name has a type we cannot skip.
    private static let undefinedFlags: UInt16 = 0b11

    /// The property-flags word for the properties that are set.
    public var flags: UInt16 {
        var flags: UInt16 = 0
        if self.contentType != nil { flags |= Self.contentTypeFlag }
        if self.contentEncoding != nil { flags |= Self.contentEncodingFlag }
        if self.headers != nil { flags |= Self.headersFlag }
        if self.deliveryMode != nil { flags |= Self.deliveryModeFlag }
        if self.priority != nil { flags |= Self.priorityFlag }
        if self.correlationID != nil { flags |= Self.correlationIDFlag }
        if self.replyTo != nil { flags |= Self.replyToFlag }
        if self.expiration != nil { flags |= Self.expirationFlag }
        if self.messageID != nil { flags |= Self.messageIDFlag }
        if self.timestamp != nil { flags |= Self.timestampFlag }
        if self.type != nil { flags |= Self.typeFlag }
        if self.userID != nil { flags |= Self.userIDFlag }
        if self.appID != nil { flags |= Self.appIDFlag }
        if self.clusterID != nil { flags |= Self.clusterIDFlag }
        return flags
    }

    /// Decodes the property-flags word and the properties it announces.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> BasicProperties {
        let flags = try buffer.readAMQPInteger(UInt16.self)
        guard flags & Self.undefinedFlags == 0 else {
            throw AMQPProtocolError(
                code: .invalidPropertyFlags,
                replyCode: .frameError,
                classID: Method.Basic.classID,
                message: "basic property flags 0x\(String(flags, radix: 16)) set bit 0 or 1"
            )
        }
        // Messages without properties are common (and every benchmark message is one).
        if flags == 0 { return BasicProperties() }
        func has(_ flag: UInt16) -> Bool { flags & flag != 0 }
        var properties = BasicProperties()
        if has(Self.contentTypeFlag) { properties.contentType = try buffer.readAMQPShortString() }
        if has(Self.contentEncodingFlag) { properties.contentEncoding = try buffer.readAMQPShortString() }
        if has(Self.headersFlag) { properties.headers = try FieldTable.decode(from: &buffer) }
        if has(Self.deliveryModeFlag) { properties.deliveryMode = try buffer.readAMQPInteger(UInt8.self) }
        if has(Self.priorityFlag) { properties.priority = try buffer.readAMQPInteger(UInt8.self) }
        if has(Self.correlationIDFlag) { properties.correlationID = try buffer.readAMQPShortString() }
        if has(Self.replyToFlag) { properties.replyTo = try buffer.readAMQPShortString() }
        if has(Self.expirationFlag) { properties.expiration = try buffer.readAMQPShortString() }
        if has(Self.messageIDFlag) { properties.messageID = try buffer.readAMQPShortString() }
        if has(Self.timestampFlag) { properties.timestamp = try buffer.readAMQPInteger(UInt64.self) }
        if has(Self.typeFlag) { properties.type = try buffer.readAMQPShortString() }
        if has(Self.userIDFlag) { properties.userID = try buffer.readAMQPShortString() }
        if has(Self.appIDFlag) { properties.appID = try buffer.readAMQPShortString() }
        if has(Self.clusterIDFlag) { properties.clusterID = try buffer.readAMQPShortString() }
        return properties
    }

    /// Encodes the property-flags word and the properties that are set.
    ///
    /// Throws if a short-string property is over 255 bytes; the buffer is then left as it was.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        let start = buffer.writerIndex
        do throws(AMQPProtocolError) {
            try self.encodeUnchecked(into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    private func encodeUnchecked(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        buffer.writeInteger(self.flags)
        if let value = self.contentType { try buffer.writeAMQPShortString(value, field: "content-type") }
        if let value = self.contentEncoding { try buffer.writeAMQPShortString(value, field: "content-encoding") }
        if let value = self.headers { try value.encode(into: &buffer) }
        if let value = self.deliveryMode { buffer.writeInteger(value) }
        if let value = self.priority { buffer.writeInteger(value) }
        if let value = self.correlationID { try buffer.writeAMQPShortString(value, field: "correlation-id") }
        if let value = self.replyTo { try buffer.writeAMQPShortString(value, field: "reply-to") }
        if let value = self.expiration { try buffer.writeAMQPShortString(value, field: "expiration") }
        if let value = self.messageID { try buffer.writeAMQPShortString(value, field: "message-id") }
        if let value = self.timestamp { buffer.writeInteger(value) }
        if let value = self.type { try buffer.writeAMQPShortString(value, field: "type") }
        if let value = self.userID { try buffer.writeAMQPShortString(value, field: "user-id") }
        if let value = self.appID { try buffer.writeAMQPShortString(value, field: "app-id") }
        if let value = self.clusterID { try buffer.writeAMQPShortString(value, field: "cluster-id") }
    }
}
