/// What a browser asks of the login service.
public enum LoginAction: String, Codable, Sendable, CaseIterable {
    /// Declare (or find again) this tab's queue and announce the user.
    case login
    /// Delete this tab's queue.
    case logout
}

/// A login or logout request, sent to the login queue with a reply-to.
///
/// JSON: `{"action": "login", "login": "alice", "session": "Zq3…", "resume": false}`. The answer
/// is a ``LoginReply`` sent to the reply-to queue with the request's correlation id.
///
/// `resume` says whether the tab had this session before (a reload, or a login again after a
/// reconnect): `false` for a session id the tab has just made, whose queue cannot exist yet, so
/// the login service need not ask the broker; `true` or absent, it asks.
public struct LoginRequest: WireMessage, Hashable {
    /// Login or logout.
    public var action: LoginAction
    /// The login name.
    public var login: String
    /// The tab's random session id.
    public var session: String
    /// Whether the tab had this session before; nil when the sender did not say.
    public var resume: Bool?

    /// Creates a request.
    public init(action: LoginAction, login: String, session: String, resume: Bool? = nil) {
        self.action = action
        self.login = login
        self.session = session
        self.resume = resume
    }

    /// Whether the tab's queue may already exist (so the broker must be asked).
    public var mayExist: Bool { self.resume != false }

    /// Checks the login name and session id, returning the request unchanged.
    @discardableResult
    public func validate() throws(Refusal) -> LoginRequest {
        _ = try Validation.login(login)
        _ = try Validation.session(session)
        return self
    }

    private enum CodingKeys: String, CodingKey {
        case action, login, session, resume
    }

    /// Decodes a request, naming the allowed actions when `action` is something else.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let action = try container.decode(String.self, forKey: .action)
        guard let known = LoginAction(rawValue: action) else {
            throw DecodingError.dataCorruptedError(
                forKey: .action, in: container,
                debugDescription: "\"\(action)\" is not \"login\" or \"logout\"."
            )
        }
        self.action = known
        login = try container.decode(String.self, forKey: .login)
        session = try container.decode(String.self, forKey: .session)
        resume = try container.decodeIfPresent(Bool.self, forKey: .resume)
    }
}

/// The login service's answer.
///
/// Success: `{"login": "alice", "ok": true, "queue": "chat.user.alice.Zq3…", "session": "Zq3…"}`
/// (for a logout, `queue` names the queue that was deleted).
/// Failure: `{"code": "login.tooLong", "error": "The login name is 40 characters long; …", "ok": false}`.
public struct LoginReply: WireMessage, Hashable {
    /// Whether the request succeeded.
    public var ok: Bool
    /// The tab's queue, on success.
    public var queue: String?
    /// The login name, on success.
    public var login: String?
    /// The session id, on success.
    public var session: String?
    /// The reason, on failure.
    public var error: String?
    /// The refusal code, on failure.
    public var code: String?
    /// On success, the person's online queue (``Topology/onlineQueue(login:)``): the tab
    /// subscribes to it to be counted online while it is connected.
    public var online: String?

    /// Creates a reply; prefer ``success(queue:login:session:online:)`` and ``failure(_:)``.
    public init(
        ok: Bool, queue: String? = nil, login: String? = nil, session: String? = nil, error: String? = nil, code: String? = nil,
        online: String? = nil
    ) {
        self.ok = ok
        self.queue = queue
        self.login = login
        self.session = session
        self.error = error
        self.code = code
        self.online = online
    }

    /// A success naming the tab's queue (and the person's online queue, when declared).
    public static func success(queue: String, login: String, session: String, online: String? = nil) -> LoginReply {
        LoginReply(ok: true, queue: queue, login: login, session: session, online: online)
    }

    /// A failure carrying the refusal's message and code.
    public static func failure(_ refusal: Refusal) -> LoginReply {
        LoginReply(ok: false, error: refusal.message, code: refusal.code.rawValue)
    }
}
