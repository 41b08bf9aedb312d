import Foundation
import PostgresNIO
import SQLiteNIO

@testable import WarrenStore

extension Store {
    /// The versions recorded in `schema_migrations`, in order.
    func appliedVersions() async throws -> [Int] {
        switch backend {
        case .sqlite(let database):
            return try await database.read("SELECT version FROM schema_migrations ORDER BY version")
                .map { Int($0.column("version")?.integer ?? -1) }
        case .postgres(let server):
            return try await server.query("SELECT version::int8 FROM schema_migrations ORDER BY version")
                .map { try $0.decode(Int.self) }
        }
    }

    /// Records `version` as applied, as a newer Warren would.
    func recordVersion(_ version: Int) async throws {
        switch backend {
        case .sqlite(let database):
            _ = try await database.transaction { connection in
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", [.integer(SQLiteInt64(version))]
                ).count
            }
        case .postgres(let server):
            _ = try await server.query("INSERT INTO schema_migrations (version) VALUES (\(version))")
        }
    }
}
