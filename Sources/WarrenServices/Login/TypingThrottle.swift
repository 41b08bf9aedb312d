import NIOConcurrencyHelpers

/// At most one typing notice per tab per interval: the login service drops the ones that come
/// sooner. A tab that sent one is remembered for the interval, in a bounded ``RecentQueues``
/// (when full, a forgotten tab may send one notice early).
final class SharedTypingThrottle: Sendable {
    private let box: NIOLockedValueBox<RecentQueues>

    init(interval: Duration) {
        self.box = NIOLockedValueBox(RecentQueues(lifetime: interval))
    }

    /// Whether a notice from `tab` (its queue name) goes out now; remembers it when it does.
    func admit(_ tab: String, now: ContinuousClock.Instant = .now) -> Bool {
        self.box.withLockedValue { recent in
            if recent.contains(tab, now: now) { return false }
            recent.insert(tab, now: now)
            return true
        }
    }
}
