import NIOCore

extension Frame {
    /// Encodes the frame.
    ///
    /// - Parameters:
    ///   - buffer: Where the frame is appended. On error it is left as it was.
    ///   - maxFrameSize: The negotiated frame-max (whole frame, header and frame-end included);
    ///     0 means no limit. A larger frame throws ``AMQPProtocolError/Code-swift.struct/frameTooLarge``.
    public func encode(into buffer: inout ByteBuffer, maxFrameSize: UInt32 = 0) throws(AMQPProtocolError) {
        let start = buffer.writerIndex
        buffer.writeInteger(self.payload.frameType.rawValue)
        buffer.writeInteger(self.channel)
        buffer.writeInteger(UInt32(0))  // size, filled in below
        do throws(AMQPProtocolError) {
            switch self.payload {
            case .method(let method):
                try method.encode(into: &buffer)
            case .header(let header):
                try header.encode(into: &buffer)
            case .body(let bytes):
                buffer.writeImmutableBuffer(bytes)
            case .heartbeat:
                break
            }
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        let size = buffer.writerIndex - start - Frame.headerSize
        let limit = maxFrameSize == 0 ? Int(UInt32.max) : Int(maxFrameSize) - Frame.overhead
        guard size <= limit else {
            buffer.moveWriterIndex(to: start)
            throw AMQPProtocolError(
                code: .frameTooLarge,
                message: "\(self.payload.frameType) frame of \(size + Frame.overhead) bytes exceeds frame-max \(maxFrameSize)"
            )
        }
        buffer.setInteger(UInt32(size), at: start + 3)
        buffer.writeInteger(Frame.frameEnd)
    }
}

/// Encodes ``Frame``s for a NIO pipeline (wrap it in a `MessageToByteHandler`).
public struct AMQPFrameEncoder: MessageToByteEncoder, Sendable {
    /// The frames this encoder takes.
    public typealias OutboundIn = Frame

    /// The negotiated frame-max; 0 (before tune, or "unlimited") disables the check.
    public var maxFrameSize: UInt32

    /// Creates an encoder that rejects frames larger than `maxFrameSize` (0: no limit).
    public init(maxFrameSize: UInt32 = 0) {
        self.maxFrameSize = maxFrameSize
    }

    /// Appends `data` to `out`.
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.encode(into: &out, maxFrameSize: self.maxFrameSize)
    }
}
