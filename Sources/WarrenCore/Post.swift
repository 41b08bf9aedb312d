import Foundation

/// Where an accepted post goes next, chosen by its ending.
public enum PostRoute: String, Codable, Sendable, CaseIterable {
    /// An ordinary post: straight to the room.
    case plain
    /// Ends in `!pow`: held back for a proof of work through the job queue.
    case pow
    /// Ends in `!rpc`: held back for a proof of work through the RPC queue.
    case rpc
    /// Ends in `!grpc`: held back for a proof of work by a direct gRPC call to a worker.
    case grpc

    /// The routing key on the posts exchange: `post.plain`, `post.pow`, `post.rpc` or `post.grpc`.
    public var routingKey: String { "post.\(rawValue)" }

    /// The route of a routing key, or nil for an unknown key.
    public init?(routingKey: String) {
        guard routingKey.hasPrefix("post."), let route = PostRoute(rawValue: String(routingKey.dropFirst(5))) else {
            return nil
        }
        self = route
    }

    /// How the proof is requested, or nil for a plain post.
    public var proofVia: ProofVia? {
        switch self {
        case .plain: nil
        case .pow: .queue
        case .rpc: .rpc
        case .grpc: .grpc
        }
    }

    /// Splits trimmed text into its route and the text without the suffix, re-trimmed.
    ///
    /// `"hello !pow"` is `(.pow, "hello")`; the suffix needs no space before it and is matched
    /// case-insensitively (`"hi!RPC"` is `(.rpc, "hi")`). Only one suffix is removed. The
    /// result may be empty; ``AcceptedPost`` refuses that.
    public static func classify(_ text: String) -> (route: PostRoute, text: String) {
        for route in [PostRoute.pow, .rpc, .grpc] {
            // The suffixes and their case rule are shared with the page (web/rules.json).
            guard let suffix = SharedRules.proofSuffixes[route.rawValue]?.lowercased() else { continue }
            let scalars = text.unicodeScalars
            guard scalars.count >= suffix.unicodeScalars.count else { continue }
            let tail = String(String.UnicodeScalarView(scalars.suffix(suffix.unicodeScalars.count)))
            if (SharedRules.proofSuffixCaseInsensitive ? tail.lowercased() : tail) == suffix {
                let head = String(String.UnicodeScalarView(scalars.dropLast(suffix.unicodeScalars.count)))
                return (route, Validation.trimWhitespace(head))
            }
        }
        return (.plain, text)
    }
}

/// A post as a browser sends it to the inbox queue.
///
/// JSON: `{"clientId": "5f0c…", "login": "alice", "room": "ops"?, "session": "Zq3…", "text": "hello !pow", "typing": true?}`.
/// `clientId` is the browser's own id for the post (a UUID), echoed on the event so the tab can
/// match its optimistic copy and ignore a duplicate. `room` names the room (absent: `general`);
/// with `"typing": true` it is no post but a typing notice for that room (`text` is ignored).
public struct InboxPost: WireMessage, Hashable {
    /// The text as typed.
    public var text: String
    /// The browser's id for this post.
    public var clientId: String
    /// The author's login name.
    public var login: String
    /// The author's tab session id; the queue `<prefix>.user.<login>.<session>` must exist.
    public var session: String
    /// The room's id; nil means `general`.
    public var room: String?
    /// True for a typing notice rather than a post.
    public var typing: Bool?

    /// Creates a post.
    public init(text: String, clientId: String, login: String, session: String, room: String? = nil, typing: Bool? = nil) {
        self.text = text
        self.clientId = clientId
        self.login = login
        self.session = session
        self.room = room
        self.typing = typing
    }

    /// Whether this is a typing notice.
    public var isTyping: Bool { self.typing == true }

    /// The login, session and room (absent: `general`) checked, as posts and typing notices
    /// both need them; the room's id comes back in lowercase.
    func checkedSender() throws(Refusal) -> (login: String, session: String, room: String) {
        (try Validation.login(self.login), try Validation.session(self.session), try Validation.roomID(self.room ?? ChatRoom.general))
    }

    /// Checks every field and works out the route; see ``AcceptedPost``.
    public func validate() throws(Refusal) -> AcceptedPost {
        try AcceptedPost(self)
    }
}

/// A post whose fields passed validation, with its route and final text.
public struct AcceptedPost: Sendable, Hashable {
    /// The author's login name.
    public var login: String
    /// The author's session id.
    public var session: String
    /// The browser's id for this post.
    public var clientId: String
    /// The text to publish: trimmed, line endings normalised, any `!pow` / `!rpc` removed.
    public var text: String
    /// Where the post goes next.
    public var route: PostRoute
    /// The room's id (checked, in lowercase).
    public var room: String

    /// Validates a post: login, session and client id, then the text, then the route.
    ///
    /// The length limit applies to the text without its suffix, and a post that is only
    /// `!pow` is refused as empty.
    public init(_ post: InboxPost) throws(Refusal) {
        (login, session, room) = try post.checkedSender()
        clientId = try Validation.clientId(post.clientId)
        let trimmed = Validation.trimWhitespace(Validation.normaliseLineEndings(post.text))
        try Validation.checkControls(trimmed)
        let (route, body) = PostRoute.classify(trimmed)
        if body.isEmpty, route != .plain {
            throw Refusal(.textEmpty, "The post has nothing before \"!\(route.rawValue)\"; write the text to prove.")
        }
        text = try Validation.checkLength(body)
        self.route = route
    }

    /// The event published on the posts exchange for this post.
    public func event(id: String, at: Date) -> RoomEvent {
        RoomEvent(id: id, kind: .message, from: login, text: text, at: at, clientId: clientId, room: room)
    }
}

/// A typing notice whose fields passed validation.
public struct AcceptedTyping: Sendable, Hashable {
    /// Who is typing.
    public var login: String
    /// The tab it came from.
    public var session: String
    /// The room (checked, in lowercase).
    public var room: String

    /// Validates the login, the session and the room of a notice (its text is not looked at).
    public init(_ post: InboxPost) throws(Refusal) {
        (login, session, room) = try post.checkedSender()
    }

    /// The transient event sent to the room.
    public func event(id: String, at: Date) -> RoomEvent {
        RoomEvent(id: id, kind: .typing, from: login, text: "\(login) is typing…", at: at, room: room)
    }
}
