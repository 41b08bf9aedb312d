import NIOCore

/// One value in a field table or field array, with every type RabbitMQ understands.
///
/// Each case names its wire type tag in its documentation.
public enum FieldValue: Sendable, Equatable {
    /// `t`: a boolean.
    case bool(Bool)
    /// `b`: a signed 8-bit integer.
    case int8(Int8)
    /// `B`: an unsigned 8-bit integer.
    case uint8(UInt8)
    /// `s`: a signed 16-bit integer.
    case int16(Int16)
    /// `u`: an unsigned 16-bit integer.
    case uint16(UInt16)
    /// `I`: a signed 32-bit integer.
    case int32(Int32)
    /// `i`: an unsigned 32-bit integer.
    case uint32(UInt32)
    /// `l`: a signed 64-bit integer.
    case int64(Int64)
    /// `f`: a 32-bit IEEE 754 float.
    case float(Float)
    /// `d`: a 64-bit IEEE 754 double.
    case double(Double)
    /// `D`: a decimal, a scale and an unsigned 32-bit value.
    case decimal(AMQPDecimal)
    /// `S`: a long string, as bytes (usually UTF-8 text; see ``stringValue``).
    case longString(ByteBuffer)
    /// `A`: an array of values.
    case array([FieldValue])
    /// `T`: a timestamp, seconds since the Unix epoch.
    case timestamp(UInt64)
    /// `F`: a nested table.
    case table(FieldTable)
    /// `V`: no value.
    case void
    /// `x`: a byte array.
    case byteArray(ByteBuffer)

    /// Creates a long string (`S`) from text.
    public static func string(_ text: String) -> FieldValue {
        .longString(ByteBuffer(string: text))
    }

    /// The text of a long string (`S`), decoded as UTF-8; nil for any other type.
    public var stringValue: String? {
        guard case .longString(let bytes) = self else { return nil }
        return String(buffer: bytes)
    }
}

/// An AMQP decimal: `value` × 10^−`scale`.
public struct AMQPDecimal: Hashable, Sendable {
    /// The number of decimal digits after the point.
    public var scale: UInt8
    /// The unscaled value.
    public var value: UInt32

    /// Creates a decimal worth `value` × 10^−`scale`.
    public init(scale: UInt8, value: UInt32) {
        self.scale = scale
        self.value = value
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    /// A string literal, interpolated or not, becomes a long string (`S`).
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension FieldValue: ExpressibleByIntegerLiteral {
    /// An integer literal becomes a signed 64-bit integer (`l`); use a case for another width.
    public init(integerLiteral value: Int64) {
        self = .int64(value)
    }
}

extension FieldValue: ExpressibleByBooleanLiteral {
    /// A boolean literal becomes `t`.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension FieldValue: ExpressibleByFloatLiteral {
    /// A float literal becomes a double (`d`).
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension FieldValue: ExpressibleByArrayLiteral {
    /// An array literal becomes a field array (`A`).
    public init(arrayLiteral elements: FieldValue...) {
        self = .array(elements)
    }
}

extension FieldValue: ExpressibleByDictionaryLiteral {
    /// A dictionary literal becomes a nested table (`F`), keeping the literal's order.
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self = .table(FieldTable(elements))
    }
}
