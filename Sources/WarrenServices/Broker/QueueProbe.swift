import AMQPClient

/// Asks the broker whether a queue exists with a passive declare, on a channel lent by an
/// ``AMQPChannelPool``: a kept channel makes a check one round trip, and a 404 closes only the
/// channel of the check it answers (the pool drops it), so any number of checks may run at once.
///
/// With `recent`, a queue seen to exist is taken to exist until the memory's lifetime has
/// passed, without asking again (a queue deleted meanwhile, except by the memory's owner, still
/// counts as there until then).
struct QueueProbe: Sendable {
    let pool: AMQPChannelPool
    let recent: SharedRecentQueues?

    init(pool: AMQPChannelPool, recent: SharedRecentQueues? = nil) {
        self.pool = pool
        self.recent = recent
    }

    /// Whether `queue` exists (or was seen to exist within the memory).
    func exists(_ queue: String) async throws -> Bool {
        guard let recent else { return try await self.ask(queue) }
        if recent.contains(queue) { return true }
        let mark = recent.mark
        let exists = try await self.ask(queue)
        if exists { recent.insert(queue, unlessRemovedSince: mark) } else { recent.remove(queue) }
        return exists
    }

    private func ask(_ queue: String) async throws -> Bool {
        do {
            try await self.pool.withChannel { _ = try await $0.queueDeclare(queue, passive: true) }
            return true
        } catch let error as AMQPError where error.code == .notFound {
            return false
        }
    }
}
