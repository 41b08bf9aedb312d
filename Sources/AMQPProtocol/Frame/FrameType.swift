/// The frame type octet that starts every frame.
///
/// A struct with static members rather than an enum: the wire may carry any octet, and
/// ``AMQPFrameDecoder`` rejects the ones it does not know.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The octet on the wire.
    public var rawValue: UInt8

    /// Wraps a frame type octet.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// 1: a method frame.
    public static let method = FrameType(rawValue: 1)
    /// 2: a content-header frame.
    public static let header = FrameType(rawValue: 2)
    /// 3: a content-body frame.
    public static let body = FrameType(rawValue: 3)
    /// 8: a heartbeat frame.
    public static let heartbeat = FrameType(rawValue: 8)

    /// The name of a known type, or its number.
    public var description: String {
        switch self {
        case .method: "method"
        case .header: "header"
        case .body: "body"
        case .heartbeat: "heartbeat"
        default: "type \(self.rawValue)"
        }
    }
}
