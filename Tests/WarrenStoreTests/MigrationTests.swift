import Foundation
import Testing
import WarrenCore

@testable import WarrenStore

/// Schema migrations at start-up, run against every configured backend.
@Suite("Store migrations on SQLite and PostgreSQL")
struct MigrationTests {
    @Test("reopening applies nothing twice and keeps the data", arguments: StoreTestEnvironment.backends)
    func reopenIsIdempotent(backend: TestBackend) async throws {
        let database = try await ScratchDatabase.make(backend)
        do {
            let events = Samples.events(["kept"])
            let first = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
            #expect(try await first.appliedVersions() == Array(1...Schema.version))
            try await first.events.insert(events)
            await first.close()

            for _ in 0..<2 {
                let again = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
                #expect(try await again.appliedVersions() == Array(1...Schema.version))
                #expect(try await again.events.latest(limit: 5) == events)
                #expect(try await again.events.search("kept", limit: 5) == events)
                await again.close()
            }
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    @Test("a database from a newer build is refused", arguments: StoreTestEnvironment.backends)
    func schemaTooNew(backend: TestBackend) async throws {
        let database = try await ScratchDatabase.make(backend)
        do {
            let store = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
            try await store.recordVersion(Schema.version + 1)
            await store.close()
            await #expect(throws: StoreError.schemaTooNew(found: Schema.version + 1, known: Schema.version)) {
                let newer = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
                await newer.close()
            }
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    @Test("stores opened at once on one new database migrate it once", arguments: StoreTestEnvironment.backends)
    func concurrentOpen(backend: TestBackend) async throws {
        let database = try await ScratchDatabase.make(backend)
        do {
            let stores = try await withThrowingTaskGroup(of: Store.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await Store.open(url: database.url, logger: StoreTestEnvironment.logger) }
                }
                return try await group.reduce(into: [Store]()) { $0.append($1) }
            }
            #expect(stores.count == 4)
            for store in stores {
                #expect(try await store.appliedVersions() == Array(1...Schema.version))
            }
            let events = Samples.events(["seen by all"])
            #expect(try await stores[0].events.insert(events) == 1)
            for store in stores {
                #expect(try await store.events.latest(limit: 1) == events)
                await store.close()
            }
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    @Test("the schema steps are numbered 1, 2, … without gaps")
    func stepsAreContiguous() throws {
        #expect(Schema.migrations.map(\.version) == Array(1...Schema.migrations.count))
        #expect(Schema.migrations.allSatisfy { !$0.sqlite.isEmpty && !$0.postgres.isEmpty })
        #expect(throws: StoreError.schemaTooNew(found: Schema.version + 3, known: Schema.version)) {
            try Schema.pending(after: Schema.version + 3)
        }
        #expect(try Schema.pending(after: 0).count == Schema.migrations.count)
        #expect(try Schema.pending(after: Schema.version).isEmpty)
    }
}

/// Shows, as a skipped test with its reason, when the PostgreSQL half of the suite did not run.
@Suite("PostgreSQL configured for the store tests")
struct PostgresConfiguredTests {
    @Test(
        "WARREN_TEST_DATABASE_URL names a reachable server",
        .enabled(
            if: StoreTestEnvironment.postgresEnabled,
            "PostgreSQL tests skipped: WARREN_TEST_DATABASE_URL is not set and CI is not (scripts/test sets it)")
    )
    func configured() async throws {
        let url = try #require(StoreTestEnvironment.postgresURL, "CI is set but WARREN_TEST_DATABASE_URL is not")
        guard case .postgres = try StoreLocation(parsing: url) else {
            Issue.record("WARREN_TEST_DATABASE_URL is not a postgres:// URL")
            return
        }
    }
}
