import NIOCore

/// One AMQP frame: the channel it travels on and its payload.
///
/// On the wire: type (1 octet), channel (2), payload size (4), payload, frame-end 0xCE.
public struct Frame: Sendable, Equatable {
    /// What a frame carries.
    public enum Payload: Sendable, Equatable {
        /// A method frame (type 1).
        case method(Method)
        /// A content-header frame (type 2).
        case header(ContentHeader)
        /// A content-body frame (type 3): a slice of the message body.
        case body(ByteBuffer)
        /// A heartbeat frame (type 8), always on channel 0.
        case heartbeat

        /// The frame type this payload is sent as.
        public var frameType: FrameType {
            switch self {
            case .method: .method
            case .header: .header
            case .body: .body
            case .heartbeat: .heartbeat
            }
        }
    }

    /// The channel number; 0 is the connection itself.
    public var channel: UInt16
    /// The payload.
    public var payload: Payload

    /// Creates a frame.
    public init(channel: UInt16, payload: Payload) {
        self.channel = channel
        self.payload = payload
    }

    /// A heartbeat frame (on channel 0).
    public static let heartbeat = Frame(channel: 0, payload: .heartbeat)

    /// The frame-end octet, 0xCE.
    public static let frameEnd: UInt8 = 0xCE
    /// Bytes before the payload: type, channel and size.
    public static let headerSize = 7
    /// Bytes a frame adds to its payload: the header and the frame-end octet.
    public static let overhead = 8
    /// The smallest frame-max a peer may negotiate, 4096.
    public static let minimumFrameMax: UInt32 = 4096
}
