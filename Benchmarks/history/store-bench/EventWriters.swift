import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
import WarrenCore
import WarrenStore

/// Something that writes events: the store, or a bare connection.
protocol EventWriter {
    func write(_ events: [RoomEvent]) async throws
    func close() async
}

/// `EventStore.insert`, one transaction per batch.
struct StoreWriter: EventWriter {
    let store: Store

    func write(_ events: [RoomEvent]) async throws {
        try await store.events.insert(events)
    }

    func close() async {}
}

/// The event's JSON, encoded as the store encodes it, so both sides pay the same.
enum DirectPayload {
    static func json(_ event: RoomEvent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(event), as: UTF8.self)
    }
}

/// One autocommit INSERT per event on its own SQLite connection, with the store's pragmas.
final class SQLiteDirectWriter: EventWriter {
    private let connection: SQLiteConnection

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    static func open(path: String, logger: Logger) async throws -> SQLiteDirectWriter {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        _ = try await connection.query("PRAGMA busy_timeout = 10000")
        _ = try await connection.query("PRAGMA journal_mode = WAL")
        _ = try await connection.query("PRAGMA synchronous = NORMAL")
        return SQLiteDirectWriter(connection: connection)
    }

    func write(_ events: [RoomEvent]) async throws {
        for event in events {
            _ = try await connection.query(
                "INSERT INTO events (id, at, kind, sender, text, payload) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    .text(event.id), .integer(Int(event.at.timeIntervalSince1970 * 1_000)), .text(event.kind.rawValue),
                    .text(event.from), .text(event.text), .text(try DirectPayload.json(event)),
                ]
            )
        }
    }

    func close() async {
        try? await connection.close()
    }
}

/// One autocommit INSERT per event on one PostgreSQL connection.
final class PostgresDirectWriter: EventWriter {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    static func open(url: String, logger: Logger) async throws -> PostgresDirectWriter {
        guard case .postgres(let location) = try StoreLocation(parsing: url) else {
            throw BenchOptions.UsageError(description: "--postgres-url must be a postgres:// URL")
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task.immediate { await client.run() }
        return PostgresDirectWriter(client: client, runner: runner, logger: logger)
    }

    func truncate() async throws {
        try await client.query("TRUNCATE events", logger: logger)
    }

    func write(_ events: [RoomEvent]) async throws {
        for event in events {
            try await client.query(
                """
                INSERT INTO events (id, at, kind, sender, text, payload)
                VALUES (\(event.id), \(event.at), \(event.kind.rawValue), \(event.from), \(event.text), \(try DirectPayload.json(event))::json)
                ON CONFLICT DO NOTHING
                """,
                logger: logger)
        }
    }

    func close() async {
        runner.cancel()
        await runner.value
    }
}
