import NIOCore

extension Frame {
    /// Decodes one frame from the front of `buffer`.
    ///
    /// Returns nil, consuming nothing, when the frame is not complete yet. The size is checked
    /// against `maxFrameSize` as soon as the 7-byte frame header is readable, before the payload
    /// is waited for or sliced, so an oversized frame is rejected without buffering it.
    ///
    /// - Parameters:
    ///   - buffer: The received bytes.
    ///   - maxFrameSize: The largest whole frame (header and frame-end included) to accept;
    ///     0 means no limit. ``AMQPFrameDecoder`` always passes a limit.
    /// - Throws: ``AMQPProtocolError`` for a frame that breaks the spec. A broker answering
    ///   with its own protocol header gives ``AMQPProtocolError/Code-swift.struct/protocolVersionMismatch``.
    public static func decode(from buffer: inout ByteBuffer, maxFrameSize: UInt32) throws(AMQPProtocolError) -> Frame? {
        guard let typeOctet = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        let type = FrameType(rawValue: typeOctet)
        switch type {
        case .method, .header, .body, .heartbeat:
            break
        default:
            try Self.rejectUnknownType(type, in: buffer)
            return nil
        }
        guard buffer.readableBytes >= Frame.headerSize else { return nil }
        let channel = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt16.self)!
        let size = Int(buffer.getInteger(at: buffer.readerIndex + 3, as: UInt32.self)!)
        guard maxFrameSize == 0 || size + Frame.overhead <= Int(maxFrameSize) else {
            throw AMQPProtocolError(
                code: .frameTooLarge,
                replyCode: .frameError,
                message: "\(type) frame of \(size + Frame.overhead) bytes exceeds frame-max \(maxFrameSize)"
            )
        }
        if type == .heartbeat {
            guard channel == 0 else {
                throw AMQPProtocolError(
                    code: .unexpectedFrame,
                    replyCode: .unexpectedFrame,
                    message: "heartbeat frame on channel \(channel)"
                )
            }
            guard size == 0 else {
                throw AMQPProtocolError(
                    code: .invalidHeartbeat,
                    replyCode: .frameError,
                    message: "heartbeat frame with a \(size)-byte payload"
                )
            }
        }
        guard buffer.readableBytes >= size + Frame.overhead else { return nil }
        let end = buffer.getInteger(at: buffer.readerIndex + Frame.headerSize + size, as: UInt8.self)!
        guard end == Frame.frameEnd else {
            throw AMQPProtocolError(
                code: .invalidFrameEnd,
                replyCode: .frameError,
                message: "\(type) frame ends with 0x\(String(end, radix: 16)), not 0xce"
            )
        }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        var payload = buffer.readSlice(length: size)!
        buffer.moveReaderIndex(forwardBy: 1)
        return Frame(channel: channel, payload: try Self.decodePayload(type, from: &payload))
    }

    /// Throws for a frame type octet that is not 1, 2, 3 or 8, unless the bytes may yet turn out
    /// to be a protocol header, which a broker sends when it does not speak our version.
    private static func rejectUnknownType(_ type: FrameType, in buffer: ByteBuffer) throws(AMQPProtocolError) {
        if AMQPProtocolHeader.couldStart(buffer) {
            var peek = buffer
            guard let header = try AMQPProtocolHeader.decode(from: &peek) else { return }
            throw AMQPProtocolError(
                code: .protocolVersionMismatch,
                message: "the server answered with its protocol header, \(header)"
            )
        }
        throw AMQPProtocolError(code: .unknownFrameType, replyCode: .frameError, message: "unknown frame \(type)")
    }

    private static func decodePayload(_ type: FrameType, from payload: inout ByteBuffer) throws(AMQPProtocolError) -> Payload {
        switch type {
        case .method:
            let ids = payload.getInteger(at: payload.readerIndex, as: UInt32.self)
            do throws(AMQPProtocolError) {
                let method = try Method.decode(from: &payload)
                guard payload.readableBytes == 0 else {
                    throw AMQPProtocolError(
                        code: .trailingBytes,
                        replyCode: .frameError,
                        message: "\(method.name) has \(payload.readableBytes) bytes after its arguments"
                    )
                }
                return .method(method)
            } catch {
                // Name the method in errors from deep inside its arguments.
                var error = error
                if error.classID == nil, let ids {
                    error.classID = UInt16(truncatingIfNeeded: ids >> 16)
                    error.methodID = UInt16(truncatingIfNeeded: ids)
                }
                throw error
            }
        case .header:
            // Bytes after the properties are padding some peers send; they are skipped.
            return .header(try ContentHeader.decode(from: &payload))
        case .body:
            return .body(payload)
        default:
            return .heartbeat
        }
    }
}
