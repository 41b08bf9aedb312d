import NIOConcurrencyHelpers

/// Queue names seen to exist a short while ago, so posts from one session cost one passive
/// declare per lifetime instead of one each. Pure and bounded: at most `capacity` names, each
/// trusted for `lifetime` after it was seen.
struct RecentQueues: Sendable {
    /// How long a sighting is trusted.
    let lifetime: Duration
    /// The most names held; when full, stale names go first, then all.
    let capacity: Int
    private var seen: [String: ContinuousClock.Instant] = [:]

    init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    /// How many names are held.
    var count: Int { self.seen.count }

    /// Whether `queue` was seen to exist less than `lifetime` before `now`.
    mutating func contains(_ queue: String, now: ContinuousClock.Instant) -> Bool {
        guard let at = self.seen[queue] else { return false }
        if now - at < self.lifetime { return true }
        self.seen[queue] = nil
        return false
    }

    /// Records that `queue` exists at `now`.
    mutating func insert(_ queue: String, now: ContinuousClock.Instant) {
        guard self.lifetime > .zero else { return }
        if self.seen[queue] == nil, self.seen.count >= self.capacity {
            self.seen = self.seen.filter { now - $0.value < self.lifetime }
            if self.seen.count >= self.capacity { self.seen.removeAll(keepingCapacity: true) }
        }
        self.seen[queue] = now
    }

    /// Forgets `queue` (it was found missing).
    mutating func remove(_ queue: String) {
        self.seen[queue] = nil
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
