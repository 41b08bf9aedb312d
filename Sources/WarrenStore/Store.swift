import Foundation
import Logging

/// The project's store: events (history) and accounts, on SQLite or PostgreSQL.
///
/// ```swift
/// let store = try await Store.open(url: configuration.databaseURL, logger: logger)
/// defer { Task { await store.close() } }   // or close it when the service stops
/// try await store.events.insert(batch)
/// let account = try await store.accounts.account(named: "alice")
/// ```
///
/// Opening applies the schema migrations this build knows (safe when several processes start at
/// once) and refuses a database whose schema is newer (``StoreError/schemaTooNew(found:known:)``).
/// Both stores are safe to use from many tasks at once. Call ``close()`` once, when done.
public final class Store: Sendable {
    /// The room's history.
    public let events: any EventStore
    /// Accounts and refresh tokens.
    public let accounts: any AccountStore
    /// Rooms, memberships and read positions.
    public let rooms: any RoomStore
    /// Where the store is (the password never appears in its description).
    public let location: StoreLocation
    /// The open database, for the migrator's tests.
    let backend: Backend

    /// The open database behind the stores.
    enum Backend: Sendable {
        case sqlite(SQLiteDatabaseFile)
        case postgres(PostgresServer)
    }

    private init(location: StoreLocation, events: any EventStore, accounts: any AccountStore, rooms: any RoomStore, backend: Backend) {
        self.location = location
        self.events = events
        self.accounts = accounts
        self.rooms = rooms
        self.backend = backend
    }

    /// Opens the store at `url` (`sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`)
    /// and migrates it.
    /// - Throws: ``StoreError/unsupportedURL(_:)``, ``StoreError/schemaTooNew(found:known:)``,
    ///   ``StoreError/unavailable(_:)``, or the backend's own error.
    public static func open(url: String, logger: Logger) async throws -> Store {
        try await open(StoreLocation(parsing: url), logger: logger)
    }

    /// Opens the store at a parsed location and migrates it.
    public static func open(_ location: StoreLocation, logger: Logger) async throws -> Store {
        var logger = logger
        logger[metadataKey: "store"] = "\(location)"
        switch location {
        case .sqlite(let path):
            let database = try await SQLiteDatabaseFile.open(path: path, logger: logger)
            do {
                try await SQLiteMigrator.migrate(database)
            } catch {
                await database.close()
                throw error
            }
            return Store(
                location: location,
                events: SQLiteEventStore(database: database),
                accounts: SQLiteAccountStore(database: database),
                rooms: SQLiteRoomStore(database: database),
                backend: .sqlite(database)
            )
        case .postgres(let details):
            let database = try await PostgresServer.open(details, logger: logger)
            do {
                try await PostgresMigrator.migrate(database)
            } catch {
                await database.close()
                throw error
            }
            return Store(
                location: location,
                events: PostgresEventStore(server: database),
                accounts: PostgresAccountStore(server: database),
                rooms: PostgresRoomStore(server: database),
                backend: .postgres(database)
            )
        }
    }

    /// Closes the connections. The stores must not be used afterwards.
    public func close() async {
        switch backend {
        case .sqlite(let database): await database.close()
        case .postgres(let server): await server.close()
        }
    }
}
