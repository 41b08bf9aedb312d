import NIOCore

// Primitive AMQP readers and writers. Readers throw typed errors instead of returning nil, so the
// generated method codec stays a straight line of `try`s.
extension ByteBuffer {
    mutating func readAMQPInteger<T: FixedWidthInteger>(_: T.Type) throws(AMQPProtocolError) -> T {
        guard let value = self.readInteger(as: T.self) else {
            throw AMQPProtocolError.truncated("a \(T.bitWidth)-bit integer")
        }
        return value
    }

    mutating func readAMQPShortString() throws(AMQPProtocolError) -> String {
        let length = Int(try self.readAMQPInteger(UInt8.self))
        guard let string = self.readString(length: length) else {
            throw AMQPProtocolError.lengthOutOfBounds("short string", length: length, available: self.readableBytes)
        }
        return string
    }

    mutating func writeAMQPShortString(_ string: String, field: String) throws(AMQPProtocolError) {
        let length = string.utf8.count
        guard length <= Int(UInt8.max) else {
            throw AMQPProtocolError.valueTooLong("short string \(field)", length: length, limit: Int(UInt8.max))
        }
        self.writeInteger(UInt8(length))
        self.writeString(string)
    }

    mutating func readAMQPLongString() throws(AMQPProtocolError) -> ByteBuffer {
        try self.readAMQPSizedSlice("long string")
    }

    mutating func writeAMQPLongString(_ bytes: ByteBuffer, field: String) throws(AMQPProtocolError) {
        guard bytes.readableBytes <= Int(UInt32.max) else {
            throw AMQPProtocolError.valueTooLong("long string \(field)", length: bytes.readableBytes, limit: Int(UInt32.max))
        }
        self.writeInteger(UInt32(bytes.readableBytes))
        self.writeImmutableBuffer(bytes)
    }

    /// Reads a 32-bit length and then that many bytes, checking the length against what is left
    /// before slicing.
    mutating func readAMQPSizedSlice(_ what: String) throws(AMQPProtocolError) -> ByteBuffer {
        let length = try self.readAMQPInteger(UInt32.self)
        guard length <= self.readableBytes, let slice = self.readSlice(length: Int(length)) else {
            throw AMQPProtocolError.lengthOutOfBounds(what, length: Int(length), available: self.readableBytes)
        }
        return slice
    }

    /// Writes a 32-bit length placeholder, runs `body`, then fills the length in.
    mutating func writeAMQPSizePrefixed(
        _ what: String,
        _ body: (inout ByteBuffer) throws(AMQPProtocolError) -> Void
    ) throws(AMQPProtocolError) {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        try body(&self)
        let length = self.writerIndex - lengthIndex - 4
        guard length <= Int(UInt32.max) else {
            self.moveWriterIndex(to: lengthIndex)
            throw AMQPProtocolError.valueTooLong(what, length: length, limit: Int(UInt32.max))
        }
        self.setInteger(UInt32(length), at: lengthIndex)
    }
}
