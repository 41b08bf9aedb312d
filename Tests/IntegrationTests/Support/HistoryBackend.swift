import Foundation
import Logging
import PostgresNIO
import Testing
import WarrenStore

/// A store the history role can run on in an integration test: a SQLite file, or a database of
/// its own on the PostgreSQL server `scripts/test` starts (WARREN_TEST_DATABASE_URL).
enum HistoryBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }

    static var postgresURL: String? {
        BrokerEnvironment.environment["WARREN_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite always; PostgreSQL when its URL is set, and always under CI (then a missing URL fails).
    static var available: [HistoryBackend] {
        BrokerEnvironment.isCI || postgresURL != nil ? [.sqlite, .postgres] : [.sqlite]
    }

    static let logger: Logger = {
        var logger = Logger(label: "warren.test.history-store")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with the URL of an empty store, removed afterwards: more than one `Store` may
    /// be opened on it in turn, as roles restarted on the same store do.
    func withEmptyStore(_ body: (String) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-history-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try await body("sqlite:" + folder.appendingPathComponent("warren.sqlite").path)
        case .postgres:
            let adminURL = try #require(Self.postgresURL, "CI is set but WARREN_TEST_DATABASE_URL is not (scripts/test sets it)")
            guard case .postgres(let admin) = try StoreLocation(parsing: adminURL) else {
                throw TestFailure("WARREN_TEST_DATABASE_URL is not a postgres:// URL")
            }
            let name = "warren_it_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await Self.administer(admin, "CREATE DATABASE \(name)")
            var location = admin
            location.database = name
            let user = location.user.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let password = location.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let result: Result<Void, any Error>
            do {
                try await body("postgres://\(user):\(password)@\(location.host):\(location.port)/\(name)")
                result = .success(())
            } catch {
                result = .failure(error)
            }
            try await Self.administer(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try result.get()
        }
    }

    /// Runs one statement on the server's own database.
    private static func administer(_ location: StoreLocation.PostgresLocation, _ sql: String) async throws {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: Self.logger)
        let runner = Task.immediate { await client.run() }
        defer { runner.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
    }
}
