import NIOConcurrencyHelpers
import WarrenCore
import WarrenStore

/// An ``EventStore`` in a dictionary, for unit tests of the history logic only; it can be told
/// to fail its next writes.
final class InMemoryEventStore: EventStore {
    struct Failure: Error {}

    private struct State {
        var events: [String: RoomEvent] = [:]
        var inserts: [[String]] = []
        var failures = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Makes the next `count` inserts throw.
    func failNext(_ count: Int) {
        self.state.withLockedValue { $0.failures = count }
    }

    /// The ids of every insert that succeeded, in order.
    var inserts: [[String]] { self.state.withLockedValue { $0.inserts } }

    func insert(_ events: [RoomEvent]) async throws -> Int {
        try self.state.withLockedValue { state in
            if state.failures > 0 {
                state.failures -= 1
                throw Failure()
            }
            var new = 0
            for event in events where state.events[event.id] == nil {
                state.events[event.id] = event
                new += 1
            }
            state.inserts.append(events.map(\.id))
            return new
        }
    }

    private func sorted(_ rooms: [String]?) -> [RoomEvent] {
        self.state.withLockedValue { $0.events.values.filter { rooms?.contains($0.room) ?? true }.sorted { $0.id < $1.id } }
    }

    func latest(limit: Int, rooms: [String]?) async throws -> [RoomEvent] { Array(self.sorted(rooms).suffix(limit)) }

    func before(id: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        Array(self.sorted(rooms).filter { $0.id < id }.suffix(limit))
    }

    func search(_ query: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        Array(self.sorted(rooms).reversed().filter { $0.text.localizedCaseInsensitiveContains(query) }.prefix(limit))
    }

    func unread(room: String, after: String?, reader: String, cap: Int) async throws -> UnreadCount {
        let posts = self.sorted([room]).filter { $0.id > (after ?? "") && [.message, .proof].contains($0.kind) && $0.from.lowercased() != reader.lowercased() }
        return UnreadCount(count: min(cap, posts.count), mentioned: posts.prefix(cap).contains { $0.text.lowercased().contains("@" + reader.lowercased()) })
    }

    func count() async throws -> Int { self.state.withLockedValue { $0.events.count } }
}
