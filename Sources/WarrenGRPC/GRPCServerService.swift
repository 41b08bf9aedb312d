import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import WarrenCore

/// A gRPC server over HTTP/2 (plaintext) as a swift-service-lifecycle service: it serves until
/// graceful shutdown, then stops taking calls and returns once the calls in flight have ended
/// (a server stream such as `Chat.Subscribe` ends itself on shutdown).
public final class GRPCServerService: Service, Sendable {
    /// What the server serves, for logs.
    public let name: String
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger
    private let onShutdown: @Sendable () -> Void
    private let required: Bool

    /// Creates a server of `services` on `host:port` (port 0 picks a free one: see ``listeningPort()``);
    /// `onShutdown` is called when it begins to stop (to end its server streams). A server that is
    /// not `required` (its port is the default one) and cannot listen (the port is taken: a second
    /// worker on one machine) logs why and lets the process run on without it.
    public init(
        name: String, host: String, port: Int, services: [any RegistrableRPCService], logger: Logger,
        required: Bool = true, onShutdown: @escaping @Sendable () -> Void = {}
    ) {
        self.name = name
        self.required = required
        self.logger = logger
        self.onShutdown = onShutdown
        var config = HTTP2ServerTransport.Posix.Config.defaults
        // A bound on what one peer can hold: streams at once per connection.
        config.http2.maxConcurrentStreams = Self.maxConcurrentStreams
        self.server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext, config: config),
            services: services,
            interceptors: [GRPCTiming()]
        )
    }

    /// The most calls one connection may have open at once.
    public static let maxConcurrentStreams = 256

    /// Serves until graceful shutdown.
    public func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await self.server.serve() }
                    if let port = try await self.listeningPort() {
                        self.logger.notice("gRPC \(self.name) listening", metadata: ["port": "\(port)"])
                    }
                }
            } onGracefulShutdown: {
                self.stop()
            }
        } catch where !self.required && !Task.isCancelled {
            self.logger.error(
                "gRPC \(self.name) is not served: it could not listen (set its port to another, or off)",
                metadata: ["error": "\(error)"]
            )
            try? await gracefulShutdown()
        }
    }

    /// Stops taking calls and ends the server streams (as graceful shutdown does).
    public func stop() {
        self.onShutdown()
        self.server.beginGracefulShutdown()
    }

    /// The port the server listens on once it does; nil when it could not start.
    public func listeningPort() async throws -> Int? {
        guard let address = try await self.server.listeningAddress else { return nil }
        return address.ipv4?.port ?? address.ipv6?.port
    }
}
