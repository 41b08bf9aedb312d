import WarrenCore

/// The rooms' memory: every event that passed through the rooms exchange, keyed by its id.
///
/// Implementations must be safe to call from many tasks at once. Ids are ``EventID``s, so
/// ordering by id is ordering by time. Every read takes `rooms`: the rooms whose events may be
/// returned (nil: every room, for tools and tests; the roles always name the asker's rooms).
public protocol EventStore: Sendable {
    /// Writes `events` in one transaction and returns how many were new. An event whose id is
    /// already stored is skipped, so writing a redelivered batch again changes nothing.
    @discardableResult
    func insert(_ events: [RoomEvent]) async throws -> Int

    /// The newest `limit` events of `rooms`, oldest first.
    func latest(limit: Int, rooms: [String]?) async throws -> [RoomEvent]

    /// The `limit` events of `rooms` just before the event `id` (not including it), oldest
    /// first. An `id` that is not stored still works as a bound: events with smaller ids are returned.
    func before(id: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent]

    /// Events of `rooms` whose text matches `query` (full-text: words, any order), newest first.
    /// `query` is plain text typed by a person, never an expression in the backend's syntax:
    /// an implementation quotes it.
    func search(_ query: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent]

    /// What `reader` has not read in `room`: posts (`message`, `proof`) by others after the event
    /// `after` (all of them when nil), counted up to `cap`, and whether one of them mentions
    /// `@reader` (without regard to case).
    func unread(room: String, after: String?, reader: String, cap: Int) async throws -> UnreadCount

    /// How many events are stored.
    func count() async throws -> Int
}

/// Unread posts of one room for one person.
public struct UnreadCount: Sendable, Hashable, Codable {
    /// Posts by others after the read position, at most the cap asked for.
    public var count: Int
    /// Whether one of them names the reader with `@`.
    public var mentioned: Bool

    /// Creates a count.
    public init(count: Int, mentioned: Bool) {
        self.count = count
        self.mentioned = mentioned
    }
}

extension EventStore {
    /// The newest `limit` events of every room, oldest first.
    public func latest(limit: Int) async throws -> [RoomEvent] { try await self.latest(limit: limit, rooms: nil) }
    /// The `limit` events of every room just before `id`, oldest first.
    public func before(id: String, limit: Int) async throws -> [RoomEvent] { try await self.before(id: id, limit: limit, rooms: nil) }
    /// Events of every room whose text matches `query`, newest first.
    public func search(_ query: String, limit: Int) async throws -> [RoomEvent] { try await self.search(query, limit: limit, rooms: nil) }
}

/// The kinds of events that count as unread posts.
enum UnreadKinds {
    static let all = [EventKind.message.rawValue, EventKind.proof.rawValue]

    /// A LIKE pattern matching `@name` anywhere, with LIKE's wildcards in the name escaped by `\`.
    static func mentionPattern(_ name: String) -> String {
        var escaped = ""
        for character in name.lowercased() {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%@" + escaped + "%"
    }
}
