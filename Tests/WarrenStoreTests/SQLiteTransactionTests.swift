import Foundation
import Testing

@testable import WarrenStore

/// The SQLite writer's transactions.
struct SQLiteTransactionTests {
    /// A transaction whose task is cancelled mid-way is rolled back, and the next one works
    /// (the chaos drill's history role once failed every write after its connection went:
    /// the rollback had thrown CancellationError unrun, leaving the transaction open).
    @Test func aCancelledTransactionIsRolledBackAndTheNextOneWorks() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-tx-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let file = try await SQLiteDatabaseFile.open(path: path, logger: StoreTestEnvironment.logger)
        do {
            try await Self.cancelThenWrite(file)
        } catch {
            await file.close()
            throw error
        }
        await file.close()
    }

    private static func cancelThenWrite(_ file: SQLiteDatabaseFile) async throws {
        _ = try await file.transaction { try await $0.query("CREATE TABLE t (n INTEGER)") }
        let started = AsyncStream.makeStream(of: Void.self)
        let cancelled = Task {
            try await file.transaction { connection in
                _ = try await connection.query("INSERT INTO t VALUES (1)")
                started.continuation.yield()
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
        for await _ in started.stream { break }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
        let count = try await file.transaction { connection in
            _ = try await connection.query("INSERT INTO t VALUES (2)")
            return try await connection.query("SELECT count(*) AS n FROM t")[0].column("n")?.integer
        }
        #expect(count == 1, "the cancelled insert was rolled back, the next one committed")
    }
}
