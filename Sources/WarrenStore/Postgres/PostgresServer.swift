import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import WarrenCore

/// A PostgreSQL database opened for the store: a bounded pool of connections (postgres-nio's
/// ``PostgresClient``), run by a task that ``close()`` ends.
final class PostgresServer: Sendable {
    /// The most connections the pool opens to the server.
    static let maximumConnections = 4
    /// How long one connection attempt, and the first contact at start-up, may take. Later, a
    /// lease waits at most until the pool's circuit breaker gives up on an unreachable server.
    static let connectTimeout: Duration = .seconds(10)

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    /// Starts the pool and checks that the server answers.
    static func open(_ location: StoreLocation.PostgresLocation, logger: Logger) async throws -> PostgresServer {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(location.host)
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password, database: location.database,
            tls: loopback ? .disable : .prefer(.makeClientConfiguration())
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = connectTimeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // Immediate, so `run()` has begun before the first lease (postgres-nio warns otherwise).
        let runner = Task.immediate { await client.run() }
        let server = PostgresServer(client: client, runner: runner, logger: logger)
        do {
            try await withDeadline(connectTimeout, "the first PostgreSQL connection") {
                try await server.withConnection { connection in
                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                }
            }
        } catch {
            await server.close()
            throw StoreError.unavailable(
                "PostgreSQL at \(location.host):\(location.port)/\(location.database): \(PostgresServer.describe(error))")
        }
        return server
    }

    /// Runs `body` on a connection leased from the pool.
    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` inside `BEGIN … COMMIT`, rolling back and rethrowing its own error when it
    /// throws (postgres-nio's `withTransaction` would wrap it).
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { [logger] connection in
            _ = try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                do {
                    _ = try await connection.query("ROLLBACK", logger: logger)
                } catch let rollbackError {
                    // A connection in an unknown transaction state must not go back to the pool:
                    // closing it makes the pool open a fresh one.
                    logger.error("PostgreSQL rollback failed; closing the connection", metadata: ["error": "\(PostgresServer.describe(rollbackError))"])
                    try? await connection.close()
                }
                throw error
            }
        }
    }

    /// Runs one statement outside any explicit transaction and collects its rows.
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { [logger] connection in
            try await connection.query(query, logger: logger).collect()
        }
    }

    /// Ends the pool and waits for its task.
    func close() async {
        runner.cancel()
        await runner.value
    }

    /// postgres-nio hides details from `description` on purpose; logs and errors here want them.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var text = "\(error.code)"
            if let message = error.serverInfo?[.message] { text += ": \(message)" }
            if let underlying = error.underlying { text += " (\(underlying))" }
            return text
        }
        return String(describing: error)
    }
}
