import Foundation
import Logging
import SQLiteNIO

/// Brings a SQLite database to ``Schema/version`` in one IMMEDIATE transaction, so a second
/// process starting at the same time waits and then finds nothing left to do.
enum SQLiteMigrator {
    /// Applies the pending steps (up to `target`, for the tests of a later step) and returns how many ran.
    @discardableResult
    static func migrate(_ database: SQLiteDatabaseFile, upTo target: Int = Schema.version) async throws -> Int {
        let logger = database.logger
        return try await database.transaction { connection in
            _ = try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"
            )
            let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
            let current = Int(rows.first?.column("version")?.integer ?? 0)
            let pending = try Schema.pending(after: current).filter { $0.version <= target }
            for migration in pending {
                logger.info(
                    "applying schema step", metadata: ["version": "\(migration.version)", "summary": "\(migration.summary)"])
                for statement in migration.sqlite {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(SQLiteInt64(migration.version)), .integer(SQLiteInt64(StoredEvent.milliseconds(Date())))]
                )
            }
            return pending.count
        }
    }
}
