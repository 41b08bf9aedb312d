/// What a store operation can fail with, beyond the backend's own errors.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An account with this name (in some case) already exists.
    case nameTaken(String)
    /// The store URL is not one this build understands.
    case unsupportedURL(String)
    /// The database holds a schema newer than this build knows.
    case schemaTooNew(found: Int, known: Int)

    public var description: String {
        switch self {
        case .nameTaken(let name): "the name \"\(name)\" is taken"
        case .unsupportedURL(let url):
            "the store URL \"\(url)\" is neither sqlite:PATH nor postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        case .schemaTooNew(let found, let known):
            "the database is at schema version \(found), newer than this build's \(known); upgrade Warren"
        }
    }
}
