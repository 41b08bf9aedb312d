/// Posts made through the REST API (`POST /api/messages`) rather than from a browser tab.
///
/// The web role checks the bearer token and the text, then sends the post to the inbox like a
/// tab does, on behalf of the token's owner (see WarrenServices' `PostAuthor`), and the login
/// service admits it through the same rules. Such a post has no tab, so it names the fixed
/// session ``session``; its outcome goes back to the web role as a ``PostReply``.
public enum APIPost {
    /// The session an API post names: well-formed, so the post validates like any other, and
    /// never a tab's (a tab's id is random; nothing is looked up under this one).
    public static let session = "rest-api-post-without-tab"

    /// The post the web role sends for `login`.
    public static func inboxPost(text: String, clientId: String, login: String, room: String? = nil) -> InboxPost {
        InboxPost(text: text, clientId: clientId, login: login, session: session, room: room)
    }
}

/// The login service's answer to an API post: admitted (with the room event's id) or refused.
///
/// JSON: `{"ok": true, "id": "01J…", "clientId": "…"}` or
/// `{"ok": false, "code": "text.tooLong", "error": "…", "clientId": "…"}`.
public struct PostReply: WireMessage, Hashable {
    /// Whether the post was admitted (published to the posts exchange and confirmed).
    public var ok: Bool
    /// The room event's id, when admitted.
    public var id: String?
    /// The post's client id.
    public var clientId: String?
    /// The reason, when refused.
    public var error: String?
    /// The refusal code, when refused.
    public var code: String?

    /// Creates a reply; prefer ``admitted(id:clientId:)`` and ``refused(_:clientId:)``.
    public init(ok: Bool, id: String? = nil, clientId: String? = nil, error: String? = nil, code: String? = nil) {
        self.ok = ok
        self.id = id
        self.clientId = clientId
        self.error = error
        self.code = code
    }

    /// The post went to the room (or to its proof of work) as event `id`.
    public static func admitted(id: String, clientId: String) -> PostReply {
        PostReply(ok: true, id: id, clientId: clientId)
    }

    /// The post was refused.
    public static func refused(_ refusal: Refusal, clientId: String?) -> PostReply {
        PostReply(ok: false, clientId: clientId, error: refusal.message, code: refusal.code.rawValue)
    }
}

/// What became of a post handed to a ``PostPublishing``.
public enum PostOutcome: Equatable, Sendable {
    /// The login service admitted it as room event `id`.
    case admitted(id: String)
    /// The broker holds it in the inbox (its publish was confirmed), but the login service did
    /// not answer in time; it reaches the room once a login service takes it.
    case queued
    /// The login service refused it.
    case refused(Refusal)
}

/// Why a post could not be handed to the broker.
public enum PostPublishError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No broker connection, a channel that would not open, or a publish the broker did not take.
    case unavailable(String)

    /// The reason, for a person.
    public var description: String {
        switch self {
        case .unavailable(let reason): reason
        }
    }
}

/// Something that posts on a person's behalf: the web role's publisher over the broker
/// (WarrenServices' `APIPostPublisher`), or a stand-in in tests of the web layer.
public protocol PostPublishing: Sendable {
    /// Sends a post (already validated, naming ``APIPost/session``) and waits, within bounds,
    /// for the login service's answer.
    /// - Throws: ``PostPublishError`` when the broker did not take the post.
    func publish(_ post: InboxPost) async throws(PostPublishError) -> PostOutcome
}
