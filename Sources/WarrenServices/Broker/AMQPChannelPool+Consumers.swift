import AMQPClient

extension AMQPChannelPool {
    /// The consumers on `queue` now (a passive declare on a pooled channel), 0 when it does not
    /// exist: for an online queue, the tabs of its person connected now.
    func consumerCount(of queue: String) async throws -> UInt32 {
        do {
            // A 404 closes the channel it answers; the pool drops that one.
            return try await self.withChannel { try await $0.queueDeclare(queue, passive: true).consumerCount }
        } catch let error as AMQPError where error.code == .notFound {
            return 0
        }
    }
}
