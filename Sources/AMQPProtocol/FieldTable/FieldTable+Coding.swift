import NIOCore

extension FieldTable {
    /// How deeply tables and arrays may nest before decoding gives up with
    /// ``AMQPProtocolError/Code-swift.struct/nestingTooDeep``.
    public static let maximumNestingDepth = 64

    /// Decodes a table: a 32-bit byte length, then key/value pairs filling exactly that length.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> FieldTable {
        try Self.decode(from: &buffer, depth: 0)
    }

    static func decode(from buffer: inout ByteBuffer, depth: Int) throws(AMQPProtocolError) -> FieldTable {
        guard depth < Self.maximumNestingDepth else {
            throw AMQPProtocolError(
                code: .nestingTooDeep,
                replyCode: .syntaxError,
                message: "field tables nested deeper than \(Self.maximumNestingDepth)"
            )
        }
        var slice = try buffer.readAMQPSizedSlice("field table")
        var table = FieldTable()
        while slice.readableBytes > 0 {
            let key = try slice.readAMQPShortString()
            let value = try FieldValue.decode(from: &slice, depth: depth + 1)
            table.appendUnchecked(key: key, value: value)
        }
        return table
    }

    /// Encodes the table; throws if a key is over 255 bytes or a value does not fit its length field.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        let start = buffer.writerIndex
        do throws(AMQPProtocolError) {
            try buffer.writeAMQPSizePrefixed("field table") { (buffer: inout ByteBuffer) throws(AMQPProtocolError) in
                for (key, value) in self.entries {
                    try buffer.writeAMQPShortString(key, field: "field-table key")
                    try value.encode(into: &buffer)
                }
            }
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }
}

extension FieldValue {
    /// Decodes one value: a type tag octet, then the value.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> FieldValue {
        try Self.decode(from: &buffer, depth: 0)
    }

    static func decode(from buffer: inout ByteBuffer, depth: Int) throws(AMQPProtocolError) -> FieldValue {
        let tag = try buffer.readAMQPInteger(UInt8.self)
        switch tag {
        case UInt8(ascii: "t"): return .bool(try buffer.readAMQPInteger(UInt8.self) != 0)
        case UInt8(ascii: "b"): return .int8(try buffer.readAMQPInteger(Int8.self))
        case UInt8(ascii: "B"): return .uint8(try buffer.readAMQPInteger(UInt8.self))
        case UInt8(ascii: "s"): return .int16(try buffer.readAMQPInteger(Int16.self))
        case UInt8(ascii: "u"): return .uint16(try buffer.readAMQPInteger(UInt16.self))
        case UInt8(ascii: "I"): return .int32(try buffer.readAMQPInteger(Int32.self))
        case UInt8(ascii: "i"): return .uint32(try buffer.readAMQPInteger(UInt32.self))
        case UInt8(ascii: "l"): return .int64(try buffer.readAMQPInteger(Int64.self))
        case UInt8(ascii: "f"): return .float(Float(bitPattern: try buffer.readAMQPInteger(UInt32.self)))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try buffer.readAMQPInteger(UInt64.self)))
        case UInt8(ascii: "D"):
            let scale = try buffer.readAMQPInteger(UInt8.self)
            let value = try buffer.readAMQPInteger(UInt32.self)
            return .decimal(AMQPDecimal(scale: scale, value: value))
        case UInt8(ascii: "S"): return .longString(try buffer.readAMQPSizedSlice("long string"))
        case UInt8(ascii: "A"): return .array(try Self.decodeArray(from: &buffer, depth: depth))
        case UInt8(ascii: "T"): return .timestamp(try buffer.readAMQPInteger(UInt64.self))
        case UInt8(ascii: "F"): return .table(try FieldTable.decode(from: &buffer, depth: depth))
        case UInt8(ascii: "V"): return .void
        case UInt8(ascii: "x"): return .byteArray(try buffer.readAMQPSizedSlice("byte array"))
        default:
            throw AMQPProtocolError(
                code: .unknownFieldType,
                replyCode: .syntaxError,
                message: "unknown field-value type tag 0x\(String(tag, radix: 16))"
            )
        }
    }

    private static func decodeArray(from buffer: inout ByteBuffer, depth: Int) throws(AMQPProtocolError) -> [FieldValue] {
        guard depth < FieldTable.maximumNestingDepth else {
            throw AMQPProtocolError(
                code: .nestingTooDeep,
                replyCode: .syntaxError,
                message: "field arrays nested deeper than \(FieldTable.maximumNestingDepth)"
            )
        }
        var slice = try buffer.readAMQPSizedSlice("field array")
        var values: [FieldValue] = []
        while slice.readableBytes > 0 {
            values.append(try FieldValue.decode(from: &slice, depth: depth + 1))
        }
        return values
    }

    /// Encodes the type tag and the value.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        switch self {
        case .bool(let value):
            buffer.writeInteger(UInt8(ascii: "t"))
            buffer.writeInteger(UInt8(value ? 1 : 0))
        case .int8(let value):
            buffer.writeInteger(UInt8(ascii: "b"))
            buffer.writeInteger(value)
        case .uint8(let value):
            buffer.writeInteger(UInt8(ascii: "B"))
            buffer.writeInteger(value)
        case .int16(let value):
            buffer.writeInteger(UInt8(ascii: "s"))
            buffer.writeInteger(value)
        case .uint16(let value):
            buffer.writeInteger(UInt8(ascii: "u"))
            buffer.writeInteger(value)
        case .int32(let value):
            buffer.writeInteger(UInt8(ascii: "I"))
            buffer.writeInteger(value)
        case .uint32(let value):
            buffer.writeInteger(UInt8(ascii: "i"))
            buffer.writeInteger(value)
        case .int64(let value):
            buffer.writeInteger(UInt8(ascii: "l"))
            buffer.writeInteger(value)
        case .float(let value):
            buffer.writeInteger(UInt8(ascii: "f"))
            buffer.writeInteger(value.bitPattern)
        case .double(let value):
            buffer.writeInteger(UInt8(ascii: "d"))
            buffer.writeInteger(value.bitPattern)
        case .decimal(let value):
            buffer.writeInteger(UInt8(ascii: "D"))
            buffer.writeInteger(value.scale)
            buffer.writeInteger(value.value)
        case .longString(let bytes):
            buffer.writeInteger(UInt8(ascii: "S"))
            try buffer.writeAMQPLongString(bytes, field: "field value")
        case .array(let values):
            buffer.writeInteger(UInt8(ascii: "A"))
            try buffer.writeAMQPSizePrefixed("field array") { (buffer: inout ByteBuffer) throws(AMQPProtocolError) in
                for value in values {
                    try value.encode(into: &buffer)
                }
            }
        case .timestamp(let seconds):
            buffer.writeInteger(UInt8(ascii: "T"))
            buffer.writeInteger(seconds)
        case .table(let table):
            buffer.writeInteger(UInt8(ascii: "F"))
            try table.encode(into: &buffer)
        case .void:
            buffer.writeInteger(UInt8(ascii: "V"))
        case .byteArray(let bytes):
            buffer.writeInteger(UInt8(ascii: "x"))
            try buffer.writeAMQPLongString(bytes, field: "byte array")
        }
    }
}
