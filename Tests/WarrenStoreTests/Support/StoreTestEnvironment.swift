import Foundation
import Logging
import PostgresNIO
import Testing
import WarrenCore

@testable import WarrenStore

/// A backend the shared suite runs against.
enum TestBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Where the test databases are, from the environment `scripts/test` exports.
///
/// SQLite always runs (a temporary file). PostgreSQL runs when WARREN_TEST_DATABASE_URL names a
/// server whose role may create databases (each test gets its own, dropped afterwards); under CI
/// it always runs, so a missing URL is a failure, never a skip.
enum StoreTestEnvironment {
    static let environment = ProcessInfo.processInfo.environment

    static var postgresURL: String? {
        environment["WARREN_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var isCI: Bool {
        guard let value = environment["CI"] else { return false }
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }

    static var postgresEnabled: Bool { isCI || postgresURL != nil }

    /// The backends the shared suite runs against here.
    static var backends: [TestBackend] { postgresEnabled ? [.sqlite, .postgres] : [.sqlite] }

    static let logger: Logger = {
        var logger = Logger(label: "warren.store.tests")
        logger.logLevel = .warning
        return logger
    }()
}

/// A database made for one test and removed after it.
struct ScratchDatabase: Sendable {
    /// The store URL of the database.
    let url: String
    private let remove: @Sendable () async -> Void

    /// Makes an empty database on `backend`.
    static func make(_ backend: TestBackend) async throws -> ScratchDatabase {
        switch backend {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("warren-store-\(UUID().uuidString)", isDirectory: true)
            // The store makes the folder itself: that is part of what is tested.
            return ScratchDatabase(url: "sqlite:" + folder.appendingPathComponent("db/warren.sqlite").path) {
                try? FileManager.default.removeItem(at: folder)
            }
        case .postgres:
            guard let adminURL = StoreTestEnvironment.postgresURL else {
                Issue.record("CI is set but WARREN_TEST_DATABASE_URL is not: scripts/test exports it after starting PostgreSQL")
                throw StoreError.unavailable("CI is set but WARREN_TEST_DATABASE_URL is not")
            }
            guard case .postgres(var location) = try StoreLocation(parsing: adminURL) else {
                throw StoreError.unsupportedURL("WARREN_TEST_DATABASE_URL must be a postgres:// URL")
            }
            let admin = try await PostgresServer.open(location, logger: StoreTestEnvironment.logger)
            let name = "warren_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            do {
                _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            } catch {
                await admin.close()
                throw error
            }
            location.database = name
            let password = location.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let user = location.user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return ScratchDatabase(url: "postgres://\(user):\(password)@\(location.host):\(location.port)/\(name)") {
                do {
                    _ = try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
                } catch {
                    Issue.record("could not drop the test database \(name): \(PostgresServer.describe(error))")
                }
                await admin.close()
            }
        }
    }

    /// Removes the database.
    func drop() async { await remove() }

    private init(url: String, remove: @escaping @Sendable () async -> Void) {
        self.url = url
        self.remove = remove
    }
}

/// Runs `body` with a store on a fresh database of `backend`, closing and dropping it afterwards.
func withScratchStore(
    _ backend: TestBackend, _ body: (Store, ScratchDatabase) async throws -> Void
) async throws {
    let database = try await ScratchDatabase.make(backend)
    do {
        let store = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
        do {
            try await body(store, database)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    } catch {
        await database.drop()
        throw error
    }
    await database.drop()
}

/// Events with increasing ids, one per second from a fixed instant.
enum Samples {
    static let start = Date(timeIntervalSince1970: 1_795_000_000.123)

    static func events(_ texts: [String], from: String = "alice") -> [RoomEvent] {
        let clock = Counter(start: UInt64(start.timeIntervalSince1970 * 1_000))
        let generator = EventIDGenerator(clock: { clock.next(step: 1_000) }, random: { (7, 42) })
        return texts.enumerated().map { index, text in
            let id = generator.next()
            return RoomEvent(
                id: id.rawValue, kind: .message, from: from, text: text,
                at: start.addingTimeInterval(Double(index)), clientId: "client-\(index)"
            )
        }
    }

    /// A thread-safe counter for the injected clock.
    final class Counter: @unchecked Sendable {
        // @unchecked: `value` is only touched under `lock`.
        private let lock = NSLock()
        private var value: UInt64

        init(start: UInt64) { value = start }

        func next(step: UInt64) -> UInt64 {
            lock.lock()
            defer { lock.unlock() }
            value += step
            return value
        }
    }
}
