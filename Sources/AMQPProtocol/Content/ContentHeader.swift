import NIOCore

/// The payload of a content-header frame: which class the content belongs to, the body size
/// and the message properties.
///
/// Only the basic class carries content in AMQP 0-9-1, so the properties are ``BasicProperties``.
/// The spec's weight field is always written as 0 and ignored when read.
public struct ContentHeader: Sendable, Equatable {
    /// The class id of the method the content follows; always 60 (basic) in 0-9-1.
    public var classID: UInt16
    /// The total size of the body, which the body frames that follow add up to.
    public var bodySize: UInt64
    /// The message properties.
    public var properties: BasicProperties

    /// Creates a content header for a basic-class message.
    public init(classID: UInt16 = Method.Basic.classID, bodySize: UInt64, properties: BasicProperties = BasicProperties()) {
        self.classID = classID
        self.bodySize = bodySize
        self.properties = properties
    }

    /// Decodes class id, weight, body size and properties.
    ///
    /// Bytes after the properties are left in `buffer`: some peers pad header frames, and
    /// ``Frame`` decoding skips such padding.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> ContentHeader {
        let classID = try buffer.readAMQPInteger(UInt16.self)
        guard classID == Method.Basic.classID else {
            throw AMQPProtocolError(
                code: .unknownContentClass,
                replyCode: .frameError,
                classID: classID,
                message: "content header for class \(classID); only basic (60) has content"
            )
        }
        _ = try buffer.readAMQPInteger(UInt16.self)  // weight, unused
        let bodySize = try buffer.readAMQPInteger(UInt64.self)
        let properties = try BasicProperties.decode(from: &buffer)
        return ContentHeader(classID: classID, bodySize: bodySize, properties: properties)
    }

    /// Encodes class id, weight 0, body size and properties; throws if a property is too long.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        let start = buffer.writerIndex
        buffer.writeInteger(self.classID)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(self.bodySize)
        do throws(AMQPProtocolError) {
            try self.properties.encode(into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }
}
