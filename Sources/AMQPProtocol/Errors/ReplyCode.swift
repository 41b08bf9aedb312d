/// An AMQP reply code, as carried by `connection.close` and `channel.close`.
///
/// Open-ended: a broker may send a code this library does not name, so this is a struct with
/// static members (generated from the spec's constants) rather than an enum.
public struct ReplyCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code, e.g. 404.
    public var rawValue: UInt16

    /// Wraps a numeric reply code.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Wraps a numeric reply code.
    public init(_ rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The numeric code as text.
    public var description: String {
        String(self.rawValue)
    }
}
