import Foundation
import Logging
import PostgresNIO

/// Brings a PostgreSQL database to ``Schema/version`` in one transaction that first takes a
/// transaction-scoped advisory lock, so processes starting together migrate one after another.
enum PostgresMigrator {
    /// The advisory lock's key: "WARREN" in ASCII, shared by every Warren process on a server.
    static let lockKey: Int64 = 0x5741_5252_454E

    /// Applies the pending steps (up to `target`, for the tests of a later step) and returns how many ran.
    @discardableResult
    static func migrate(_ server: PostgresServer, upTo target: Int = Schema.version) async throws -> Int {
        let logger = server.logger
        return try await server.transaction { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger).collect()
            _ = try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            let rows = try await connection.query(
                "SELECT COALESCE(MAX(version), 0)::int8 FROM schema_migrations", logger: logger
            ).collect()
            let current = try rows.first?.decode(Int.self) ?? 0
            let pending = try Schema.pending(after: current).filter { $0.version <= target }
            for migration in pending {
                logger.info(
                    "applying schema step", metadata: ["version": "\(migration.version)", "summary": "\(migration.summary)"])
                for statement in migration.postgres {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
            }
            return pending.count
        }
    }
}
