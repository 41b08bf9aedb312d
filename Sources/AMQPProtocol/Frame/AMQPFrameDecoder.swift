import NIOCore

/// Decodes bytes from a broker into ``Frame``s.
///
/// Use it in a `ByteToMessageHandler`, or call ``decode(buffer:)`` in a loop from a handler that
/// owns the decoder, so it can set ``maxFrameSize`` once `connection.tune` is negotiated.
/// Returns nil on incomplete input; throws ``AMQPProtocolError`` (with a reply code where the
/// spec has one) for anything malformed.
public struct AMQPFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// The frames this decoder produces.
    public typealias InboundOut = Frame

    /// The default ``hardFrameSizeLimit``, 128 MiB.
    public static let defaultHardFrameSizeLimit: UInt32 = 128 * 1024 * 1024

    /// The negotiated frame-max (whole frame, header and frame-end included); 0 means none was
    /// negotiated, and only ``hardFrameSizeLimit`` applies.
    public var maxFrameSize: UInt32

    /// A cap that applies whatever ``maxFrameSize`` says, so a peer cannot make us buffer
    /// gigabytes before tune or under frame-max 0. Setting it to 0 removes the cap.
    public var hardFrameSizeLimit: UInt32

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - maxFrameSize: The negotiated frame-max; 0 before tune or when unlimited.
    ///   - hardFrameSizeLimit: The largest frame accepted in any case.
    public init(maxFrameSize: UInt32 = 0, hardFrameSizeLimit: UInt32 = AMQPFrameDecoder.defaultHardFrameSizeLimit) {
        self.maxFrameSize = maxFrameSize
        self.hardFrameSizeLimit = hardFrameSizeLimit
    }

    /// The limit in force: the smaller of ``maxFrameSize`` and ``hardFrameSizeLimit``, ignoring
    /// either when it is 0; 0 only if both are.
    public var effectiveFrameSizeLimit: UInt32 {
        switch (self.maxFrameSize, self.hardFrameSizeLimit) {
        case (0, let hard): hard
        case (let negotiated, 0): negotiated
        case (let negotiated, let hard): min(negotiated, hard)
        }
    }

    /// Decodes the next frame, or returns nil if `buffer` does not hold a whole one yet.
    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        try Frame.decode(from: &buffer, maxFrameSize: self.effectiveFrameSizeLimit)
    }

    /// Decodes what is left at end of input; a partial frame stays undecoded.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        try self.decode(buffer: &buffer)
    }
}
