import AMQPClient
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps an ``AMQPRPCClient`` on the web role's current broker connection: holds the connection
/// ``RoleService`` made until it goes, and opens the client again when its channel closed.
///
/// Both of the web role's request/reply clients keep one: ``HistoryRPCClient`` (history
/// requests) and ``APIPostPublisher`` (REST API posts, with confirms); ``hold(_:)`` is their
/// ``WarrenRole/run(on:)``.
final class RPCClientKeeper: Sendable {
    /// Why no client could be had.
    enum Failure: Error, CustomStringConvertible {
        /// There is no connection right now (not yet made, or lost and not made again).
        case noConnection
        /// The connection would not open a channel.
        case channel(any Error)

        /// The reason, for a person.
        var description: String {
            switch self {
            case .noConnection: "The web server has no connection to the broker right now; try again in a moment."
            case .channel(let cause): "The web server could not open a channel to the broker: \(cause)"
            }
        }
    }

    /// Whether the client's channel is in confirm mode (requests then return once confirmed).
    private let confirming: Bool
    private let state = NIOLockedValueBox<(connection: AMQPConnection?, client: AMQPRPCClient?)>((nil, nil))

    init(confirming: Bool) {
        self.confirming = confirming
    }

    /// Keeps `connection` for requests until graceful shutdown (then returns) or until the
    /// connection is lost (then throws, and ``RoleService`` connects again).
    func hold(_ connection: AMQPConnection) async throws {
        let client = try await self.makeClient(connection)
        self.state.withLockedValue { $0 = (connection, client) }
        let reason = await withGracefulShutdownHandler {
            await connection.closeReason()
        } onGracefulShutdown: {
            Task { try? await connection.close() }
        }
        self.state.withLockedValue { $0 = (nil, nil) }
        if let reason { throw reason }
    }

    /// The RPC client of the current connection, opened again when its channel closed.
    func client() async throws(Failure) -> AMQPRPCClient {
        let (connection, client) = self.state.withLockedValue { $0 }
        if let client, client.channel.closeReason == nil { return client }
        guard let connection else { throw .noConnection }
        do {
            let fresh = try await self.makeClient(connection)
            self.state.withLockedValue { if $0.connection === connection { $0.client = fresh } }
            return fresh
        } catch {
            throw .channel(error)
        }
    }

    /// Forgets `client` and closes its channel, so the next ``client()`` opens a fresh one: for a
    /// channel the broker nacks every publish on (a quorum queue's leader changed under it).
    func discard(_ client: AMQPRPCClient) async {
        self.state.withLockedValue { if $0.client === client { $0.client = nil } }
        try? await client.close()
    }

    private func makeClient(_ connection: AMQPConnection) async throws -> AMQPRPCClient {
        let client = try await AMQPRPCClient.make(connection: connection)
        if self.confirming { try await client.channel.confirmSelect() }
        return client
    }
}
