import Hummingbird
import NIOCore

/// The request context of the web role: Hummingbird's basic context plus the client's address,
/// which the sign-in throttle counts failures by.
public struct WarrenRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection (a proxy's address when one is in front).
    public let remoteAddress: SocketAddress?

    /// Creates the context of one request on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, or nil when unknown (in-process tests).
    var clientAddress: String? { self.remoteAddress?.ipAddress }
}
