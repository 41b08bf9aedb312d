import NIOCore

/// The 8-byte protocol header a client sends first: `AMQP`, a protocol id and a version.
///
/// A broker that does not speak the requested version answers with its own header and closes
/// the socket; ``AMQPFrameDecoder`` reports that as
/// ``AMQPProtocolError/Code-swift.struct/protocolVersionMismatch``.
public struct AMQPProtocolHeader: Hashable, Sendable, CustomStringConvertible {
    /// The protocol id octet, 0 for AMQP 0-9-1.
    public var protocolID: UInt8
    /// The major version.
    public var major: UInt8
    /// The minor version.
    public var minor: UInt8
    /// The revision.
    public var revision: UInt8

    /// `AMQP\0\0\9\1`, the header for AMQP 0-9-1.
    public static let amqp091 = AMQPProtocolHeader(protocolID: 0, major: 0, minor: 9, revision: 1)

    /// The encoded size, 8 bytes.
    public static let encodedSize = 8

    private static let prefix: [UInt8] = Array("AMQP".utf8)

    /// Creates a header for the given protocol id and version.
    public init(protocolID: UInt8, major: UInt8, minor: UInt8, revision: UInt8) {
        self.protocolID = protocolID
        self.major = major
        self.minor = minor
        self.revision = revision
    }

    /// The version as `AMQP 0-9-1` (with the protocol id when it is not 0).
    public var description: String {
        let version = "AMQP \(self.major)-\(self.minor)-\(self.revision)"
        return self.protocolID == 0 ? version : "\(version) (protocol id \(self.protocolID))"
    }

    /// Writes the 8 header bytes.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Self.prefix)
        buffer.writeInteger(self.protocolID)
        buffer.writeInteger(self.major)
        buffer.writeInteger(self.minor)
        buffer.writeInteger(self.revision)
    }

    /// Whether the readable bytes of `buffer` could be the start of a protocol header.
    static func couldStart(_ buffer: ByteBuffer) -> Bool {
        let count = min(buffer.readableBytes, Self.prefix.count)
        guard let bytes = buffer.getBytes(at: buffer.readerIndex, length: count) else { return false }
        return bytes.elementsEqual(Self.prefix.prefix(count))
    }

    /// Reads a protocol header; nil when fewer than 8 bytes are readable (nothing is consumed).
    ///
    /// Throws ``AMQPProtocolError/Code-swift.struct/invalidProtocolHeader`` when the bytes do
    /// not start with `AMQP`.
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPProtocolHeader? {
        guard Self.couldStart(buffer) else {
            throw AMQPProtocolError(code: .invalidProtocolHeader, message: "bytes do not start with AMQP")
        }
        guard buffer.readableBytes >= Self.encodedSize else { return nil }
        buffer.moveReaderIndex(forwardBy: Self.prefix.count)
        let header = AMQPProtocolHeader(
            protocolID: buffer.readInteger()!,
            major: buffer.readInteger()!,
            minor: buffer.readInteger()!,
            revision: buffer.readInteger()!
        )
        return header
    }
}
