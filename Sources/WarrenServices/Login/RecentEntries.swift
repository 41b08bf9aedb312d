import NIOConcurrencyHelpers

/// Keys remembered for a short while, each with a value. Pure and bounded: at most `capacity`
/// keys, each kept for `lifetime` after it was recorded; when full, stale keys go first, then
/// all (a memory that is lost only costs a second look, never a wrong answer within its life).
struct RecentEntries<Value: Sendable>: Sendable {
    /// How long an entry is trusted.
    let lifetime: Duration
    /// The most keys held.
    let capacity: Int
    private var entries: [String: (value: Value, at: ContinuousClock.Instant)] = [:]

    init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    /// How many keys are held.
    var count: Int { self.entries.count }

    /// The value recorded for `key` less than `lifetime` before `now`.
    mutating func value(for key: String, now: ContinuousClock.Instant) -> Value? {
        guard let entry = self.entries[key] else { return nil }
        if now - entry.at < self.lifetime { return entry.value }
        self.entries[key] = nil
        return nil
    }

    /// Records `value` for `key` at `now`.
    mutating func insert(_ key: String, value: Value, now: ContinuousClock.Instant) {
        guard self.lifetime > .zero else { return }
        if self.entries[key] == nil, self.entries.count >= self.capacity {
            self.entries = self.entries.filter { now - $0.value.at < self.lifetime }
            if self.entries.count >= self.capacity { self.entries.removeAll(keepingCapacity: true) }
        }
        self.entries[key] = (value, now)
    }

    /// Forgets `key`.
    mutating func remove(_ key: String) {
        self.entries[key] = nil
    }
}

/// Queue names seen to exist a short while ago, so posts from one session cost one passive
/// declare per lifetime instead of one each.
typealias RecentQueues = RecentEntries<Bool>

extension RecentEntries where Value == Bool {
    /// Whether `queue` was seen to exist less than `lifetime` before `now`.
    mutating func contains(_ queue: String, now: ContinuousClock.Instant) -> Bool {
        self.value(for: queue, now: now) ?? false
    }

    /// Records that `queue` exists at `now`.
    mutating func insert(_ queue: String, now: ContinuousClock.Instant) {
        self.insert(queue, value: true, now: now)
    }
}

/// ``RecentQueues`` behind a lock, on the clock, for the tasks of one role to share: the login
/// loop records the tab queues it declares and forgets the ones it deletes, and the post loop
/// trusts what it finds here for the memory's lifetime.
final class SharedRecentQueues: Sendable {
    private struct State {
        var recent: RecentQueues
        /// How many names were forgotten so far; see ``mark``.
        var removals: UInt64 = 0
    }

    private let box: NIOLockedValueBox<State>

    init(lifetime: Duration, capacity: Int = 10_000) {
        self.box = NIOLockedValueBox(State(recent: RecentQueues(lifetime: lifetime, capacity: capacity)))
    }

    /// Whether `queue` was seen to exist within the lifetime.
    func contains(_ queue: String) -> Bool {
        self.box.withLockedValue { $0.recent.contains(queue, now: .now) }
    }

    /// Taken before asking the broker about a queue, for ``insert(_:unlessRemovedSince:)``.
    var mark: UInt64 { self.box.withLockedValue { $0.removals } }

    /// Records that `queue` exists now.
    func insert(_ queue: String) {
        self.box.withLockedValue { $0.recent.insert(queue, now: .now) }
    }

    /// Records that `queue` exists now, unless any name was forgotten since `mark` was taken:
    /// the answer the broker gave may predate that queue's deletion (a logout on another task).
    func insert(_ queue: String, unlessRemovedSince mark: UInt64) {
        self.box.withLockedValue { state in
            if state.removals == mark { state.recent.insert(queue, now: .now) }
        }
    }

    /// Forgets `queue` (deleted or found missing).
    func remove(_ queue: String) {
        self.box.withLockedValue { state in
            state.recent.remove(queue)
            state.removals &+= 1
        }
    }
}
