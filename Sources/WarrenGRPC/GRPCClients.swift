import GRPCCore
import GRPCNIOTransportHTTP2
import WarrenCore

/// gRPC clients over plaintext HTTP/2, one per address, whose connections run while ``run()``
/// does. Shared by the reverser (its PoW workers) and the `warren grpc` commands.
public final class GRPCClients: Sendable {
    /// The addresses, in the order given.
    public let targets: [HostPort]
    /// One client per target.
    public let clients: [GRPCClient<HTTP2ClientTransport.Posix>]

    /// Makes the clients; nothing connects until ``run()``, and a call fails fast (UNAVAILABLE)
    /// while its target cannot be reached. A lost target is tried again at most a second later.
    public init(targets: [HostPort]) throws {
        self.targets = targets
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        self.clients = try targets.map {
            GRPCClient(transport: try .http2NIOPosix(target: .dns(host: $0.host, port: $0.port), transportSecurity: .plaintext, config: config))
        }
    }

    /// Runs every client's connections until ``shutdown()`` (or cancellation).
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for client in self.clients {
                group.addTask { try await client.runConnections() }
            }
        }
    }

    /// Lets the calls in flight finish and ends ``run()``.
    public func shutdown() {
        for client in self.clients { client.beginGracefulShutdown() }
    }

    /// Runs `body` with the clients' connections running, then shuts them down.
    public static func with<Result: Sendable>(
        targets: [HostPort], _ body: @Sendable (GRPCClients) async throws -> Result
    ) async throws -> Result {
        let clients = try GRPCClients(targets: targets)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clients.run() }
            defer { clients.shutdown() }
            let result = try await body(clients)
            clients.shutdown()
            try await group.waitForAll()
            return result
        }
    }
}
