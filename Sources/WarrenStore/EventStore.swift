import WarrenCore

/// The room's memory: every event that passed through the room fanout, keyed by its id.
///
/// Implementations must be safe to call from many tasks at once. Ids are ``EventID``s, so
/// ordering by id is ordering by time.
public protocol EventStore: Sendable {
    /// Writes `events` in one transaction and returns how many were new. An event whose id is
    /// already stored is skipped, so writing a redelivered batch again changes nothing.
    @discardableResult
    func insert(_ events: [RoomEvent]) async throws -> Int

    /// The newest `limit` events, oldest first.
    func latest(limit: Int) async throws -> [RoomEvent]

    /// The `limit` events just before the event `id` (not including it), oldest first.
    /// An `id` that is not stored still works as a bound: events with smaller ids are returned.
    func before(id: String, limit: Int) async throws -> [RoomEvent]

    /// Events whose text matches `query` (full-text: words, any order), newest first.
    /// `query` is plain text typed by a person, never an expression in the backend's syntax:
    /// an implementation quotes it.
    func search(_ query: String, limit: Int) async throws -> [RoomEvent]

    /// How many events are stored.
    func count() async throws -> Int
}
