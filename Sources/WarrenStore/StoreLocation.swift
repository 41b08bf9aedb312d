import Foundation

/// Where a store lives, parsed from `WARREN_DATABASE_URL`.
///
/// - `sqlite:PATH`: a SQLite file; a relative `PATH` is taken from the working directory
///   (`sqlite:.warren/warren.sqlite`), an absolute one as it is (`sqlite:/var/lib/warren.sqlite`;
///   `sqlite:///var/lib/warren.sqlite` means the same).
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (or `postgresql://`): a PostgreSQL server;
///   user, password and database are percent-decoded, the port defaults to 5432.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// The connection details of a PostgreSQL database.
    public struct PostgresLocation: Sendable, Hashable {
        /// The role to sign in as.
        public var user: String
        /// Its password (may be empty).
        public var password: String
        /// A host name or IP address.
        public var host: String
        /// The TCP port.
        public var port: Int
        /// The database name.
        public var database: String

        /// Creates connection details.
        public init(user: String, password: String, host: String, port: Int, database: String) {
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
        }
    }

    /// Parses a store URL; throws ``StoreError/unsupportedURL(_:)`` for anything else.
    public init(parsing text: String) throws(StoreError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty, !path.contains("\0") else { throw .unsupportedURL(Self.redacted(text)) }
            self = .sqlite(path: path)
            return
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"),
            let location = Self.postgres(text)
        else { throw .unsupportedURL(Self.redacted(text)) }
        self = .postgres(location)
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location):
            "postgres://\(location.user):***@\(location.host):\(location.port)/\(location.database)"
        }
    }

    private static func postgres(_ text: String) -> PostgresLocation? {
        guard let components = URLComponents(string: text),
            let host = components.host, !host.isEmpty,
            let user = components.user, !user.isEmpty
        else { return nil }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port), components.query == nil, components.fragment == nil else { return nil }
        let database = String(components.percentEncodedPath.dropFirst())
        guard components.percentEncodedPath.hasPrefix("/"), !database.isEmpty, !database.contains("/"),
            let decodedDatabase = database.removingPercentEncoding,
            let decodedUser = components.percentEncodedUser?.removingPercentEncoding
        else { return nil }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? ""
        // URLComponents keeps IPv6 brackets off `host` already.
        return PostgresLocation(user: decodedUser, password: password, host: host, port: port, database: decodedDatabase)
    }

    /// The text with anything between `://user:` and `@` masked, so a password never reaches a log.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", options: .backwards),
            scheme.upperBound < at.lowerBound
        else { return text }
        let userInfo = text[scheme.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}
