/// What a store operation can fail with, beyond the backend's own errors.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An account with this name (in some case) already exists.
    case nameTaken(String)
    /// The store URL is not one this build understands.
    case unsupportedURL(String)
    /// The database holds a schema newer than this build knows.
    case schemaTooNew(found: Int, known: Int)
    /// A row did not hold what the schema says it holds (edited by hand, or a bug).
    case corruptRow(String)
    /// The database could not be reached or did not answer in time.
    case unavailable(String)

    public var description: String {
        switch self {
        case .nameTaken(let name): "the name \"\(name)\" is taken"
        case .unsupportedURL(let url):
            "the store URL \"\(url)\" is neither sqlite:PATH nor postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        case .schemaTooNew(let found, let known):
            "the database is at schema version \(found), newer than this build's \(known); upgrade Warren"
        case .corruptRow(let detail): "the database holds a row this build cannot read: \(detail)"
        case .unavailable(let detail): "the database is unavailable: \(detail)"
        }
    }
}
