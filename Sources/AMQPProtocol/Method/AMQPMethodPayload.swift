import NIOCore

/// What every generated method struct (e.g. ``Method/Basic/Publish``) offers.
///
/// Lets generic client code send a method and wait for a typed reply:
/// `Method.Queue.DeclareOK(frameMethod)` unwraps a reply, `declare.method` wraps a request.
public protocol AMQPMethodPayload: Sendable, Equatable {
    /// The class id, e.g. 60 for basic.
    static var classID: UInt16 { get }
    /// The method id within the class.
    static var methodID: UInt16 { get }
    /// The spec name, e.g. `basic.publish`.
    static var name: String { get }
    /// Whether the spec marks the method as synchronous (it expects a reply).
    static var isSynchronous: Bool { get }
    /// Whether a content header and body frames follow the method.
    static var hasContent: Bool { get }

    /// Decodes the arguments (the bytes after class and method id).
    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Self
    /// Encodes the arguments (without class and method id).
    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError)

    /// This method wrapped in ``Method``.
    var method: Method { get }
    /// Unwraps this method from a ``Method``; nil for any other method.
    init?(_ method: Method)
}
