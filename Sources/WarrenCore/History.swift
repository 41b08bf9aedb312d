/// A request to the history role, sent to `<prefix>.history.rpc` with a reply-to and a
/// correlation id.
///
/// JSON, one of:
/// `{"limit": 50, "op": "latest"}` — the newest `limit` events, oldest first;
/// `{"id": "01JF…", "limit": 50, "op": "before"}` — the `limit` events just before `id`, oldest first;
/// `{"limit": 20, "op": "search", "q": "hello"}` — events whose text matches `q`, newest first.
/// Each may add `"rooms": ["general", "ops"]`: only those rooms' events (absent: `general`'s).
/// The answer is a ``HistoryReply``. Only services write to the request queue; they name the
/// rooms the asker belongs to.
public struct HistoryRequest: WireMessage, Hashable {
    /// What is asked for.
    public enum Query: Hashable, Sendable {
        /// The newest events.
        case latest
        /// The events just before this id (not checked until ``HistoryRequest/validate()``).
        case before(String)
        /// The events whose text matches this plain text (not checked until ``HistoryRequest/validate()``).
        case search(String)

        /// The `op` of the wire form.
        public var op: String {
            switch self {
            case .latest: "latest"
            case .before: "before"
            case .search: "search"
            }
        }
    }

    /// The ops a request may name.
    public static let ops = ["latest", "before", "search"]

    /// What is asked for.
    public var query: Query
    /// How many events at most.
    public var limit: Int
    /// The rooms whose events may be returned; nil means `general`.
    public var rooms: [String]?

    /// Creates a request; check it with ``validate()``.
    public init(_ query: Query, limit: Int, rooms: [String]? = nil) {
        self.query = query
        self.limit = limit
        self.rooms = rooms
    }

    /// The rooms to read: those named, or `general`.
    public var roomsToRead: [String] { self.rooms ?? [ChatRoom.general] }

    /// Checks the limit (1 to ``Limits/historyLimitMax``), the id of `before` (an ``EventID``)
    /// and the text of `search` (1 to ``Limits/historyQueryMaxCharacters`` characters, no
    /// control characters), returning the request with the search text trimmed.
    @discardableResult
    public func validate() throws(Refusal) -> HistoryRequest {
        guard (1...Limits.historyLimitMax).contains(self.limit) else {
            throw Refusal(.historyLimitInvalid, "The limit is \(self.limit); ask for 1 to \(Limits.historyLimitMax) events.")
        }
        if let rooms {
            guard rooms.count <= SharedRules.roomsPerPersonMax else {
                throw Refusal(.roomInvalid, "The request names \(rooms.count) rooms; at most \(SharedRules.roomsPerPersonMax) may be read at once.")
            }
            for room in rooms { _ = try Validation.roomID(room) }
        }
        switch self.query {
        case .latest:
            return self
        case .before(let id):
            guard EventID(rawValue: id) != nil else {
                throw Refusal(.historyIDInvalid, "\"\(id.prefix(40))\" is not an event id (26 characters of Crockford base32).")
            }
            return self
        case .search(let text):
            let trimmed = Validation.trimWhitespace(text)
            if trimmed.isEmpty {
                throw Refusal(.historyQueryInvalid, "The search text is empty.")
            }
            if trimmed.count > Limits.historyQueryMaxCharacters {
                throw Refusal(
                    .historyQueryInvalid,
                    "The search text is \(trimmed.count) characters long; at most \(Limits.historyQueryMaxCharacters) are allowed."
                )
            }
            if let bad = trimmed.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
                throw Refusal(.historyQueryInvalid, "The search text contains \(Validation.describe(bad)).")
            }
            return HistoryRequest(.search(trimmed), limit: self.limit, rooms: self.rooms)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case op, limit, id, q, rooms
    }

    /// Decodes a request, naming the allowed ops when `op` is something else.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let op = try container.decode(String.self, forKey: .op)
        let limit = try container.decode(Int.self, forKey: .limit)
        let rooms = try container.decodeIfPresent([String].self, forKey: .rooms)
        switch op {
        case "latest": self.init(.latest, limit: limit, rooms: rooms)
        case "before": self.init(.before(try container.decode(String.self, forKey: .id)), limit: limit, rooms: rooms)
        case "search": self.init(.search(try container.decode(String.self, forKey: .q)), limit: limit, rooms: rooms)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .op, in: container,
                debugDescription: "\"\(op.prefix(40))\" is not one of \(HistoryRequest.ops.map { "\"\($0)\"" }.joined(separator: ", "))."
            )
        }
    }

    /// Encodes the request in its wire form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.query.op, forKey: .op)
        try container.encode(self.limit, forKey: .limit)
        try container.encodeIfPresent(self.rooms, forKey: .rooms)
        switch self.query {
        case .latest: break
        case .before(let id): try container.encode(id, forKey: .id)
        case .search(let text): try container.encode(text, forKey: .q)
        }
    }
}

/// The history role's answer.
///
/// Success: `{"events": [RoomEvent…], "ok": true}`.
/// Failure: `{"code": "history.limitInvalid", "error": "The limit is 500; …", "ok": false}`.
public struct HistoryReply: WireMessage, Hashable {
    /// Whether the request was answered.
    public var ok: Bool
    /// The events, on success (in the order the request's op defines).
    public var events: [RoomEvent]?
    /// The reason, on failure.
    public var error: String?
    /// The refusal code, on failure.
    public var code: String?

    /// Creates a reply; prefer ``success(_:)`` and ``failure(_:)``.
    public init(ok: Bool, events: [RoomEvent]? = nil, error: String? = nil, code: String? = nil) {
        self.ok = ok
        self.events = events
        self.error = error
        self.code = code
    }

    /// A success carrying `events`.
    public static func success(_ events: [RoomEvent]) -> HistoryReply {
        HistoryReply(ok: true, events: events)
    }

    /// A failure carrying the refusal's message and code.
    public static func failure(_ refusal: Refusal) -> HistoryReply {
        HistoryReply(ok: false, error: refusal.message, code: refusal.code.rawValue)
    }
}

extension Refusal.Code {
    /// A history request's limit is outside 1...``Limits/historyLimitMax``.
    public static let historyLimitInvalid = Refusal.Code(rawValue: "history.limitInvalid")
    /// A history request's `before` id is not an ``EventID``.
    public static let historyIDInvalid = Refusal.Code(rawValue: "history.idInvalid")
    /// A history search text is empty, too long or holds a control character.
    public static let historyQueryInvalid = Refusal.Code(rawValue: "history.queryInvalid")
    /// The store could not answer (it failed, or history is off).
    public static let historyUnavailable = Refusal.Code(rawValue: "history.unavailable")
}
