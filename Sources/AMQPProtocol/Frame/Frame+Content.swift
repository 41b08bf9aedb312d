import NIOCore

extension Frame {
    /// Splits a message body into body frames that each fit in `maxFrameSize`.
    ///
    /// Each frame carries at most `maxFrameSize − 8` bytes (the frame header and frame-end take
    /// the other 8); an empty body gives no frames. The frames hold slices of `body`, not copies.
    ///
    /// - Parameters:
    ///   - body: The message body.
    ///   - channel: The channel the frames go on.
    ///   - maxFrameSize: The negotiated frame-max; 0 means no limit (one frame, up to the 4 GiB
    ///     the size field allows).
    /// - Throws: ``AMQPProtocolError/Code-swift.struct/invalidFrameMax`` for a frame-max of 1 to 8.
    public static func bodyFrames(
        for body: ByteBuffer,
        channel: UInt16,
        maxFrameSize: UInt32
    ) throws(AMQPProtocolError) -> [Frame] {
        guard maxFrameSize == 0 || Int(maxFrameSize) > Frame.overhead else {
            throw AMQPProtocolError(
                code: .invalidFrameMax,
                message: "frame-max \(maxFrameSize) leaves no room for a body byte"
            )
        }
        let chunkSize = maxFrameSize == 0 ? Int(UInt32.max) : Int(maxFrameSize) - Frame.overhead
        var remaining = body
        var frames: [Frame] = []
        frames.reserveCapacity((remaining.readableBytes + chunkSize - 1) / chunkSize)
        while remaining.readableBytes > 0 {
            let chunk = remaining.readSlice(length: min(chunkSize, remaining.readableBytes))!
            frames.append(Frame(channel: channel, payload: .body(chunk)))
        }
        return frames
    }

    /// The frames of a method with content (e.g. `basic.publish`): the method frame, the
    /// content header and the body frames.
    ///
    /// - Parameters:
    ///   - method: The content-carrying method.
    ///   - properties: The message properties.
    ///   - body: The message body; empty gives a header frame and no body frame.
    ///   - channel: The channel the frames go on.
    ///   - maxFrameSize: The negotiated frame-max, 0 for no limit.
    public static func contentFrames(
        method: Method,
        properties: BasicProperties,
        body: ByteBuffer,
        channel: UInt16,
        maxFrameSize: UInt32
    ) throws(AMQPProtocolError) -> [Frame] {
        let header = ContentHeader(classID: method.classID, bodySize: UInt64(body.readableBytes), properties: properties)
        var frames = [
            Frame(channel: channel, payload: .method(method)),
            Frame(channel: channel, payload: .header(header)),
        ]
        frames += try Self.bodyFrames(for: body, channel: channel, maxFrameSize: maxFrameSize)
        return frames
    }
}
