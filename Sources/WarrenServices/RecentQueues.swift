/// Queue names seen to exist a short while ago, so a burst of posts from one session costs one
/// passive declare instead of one each. Pure and bounded: at most `capacity` names, each
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
