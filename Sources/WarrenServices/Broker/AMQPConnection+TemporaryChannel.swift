import AMQPClient

extension AMQPConnection {
    /// Runs `body` on a channel of its own that is closed afterwards, so a broker error
    /// (404 from a passive declare) closes only that channel.
    public func withTemporaryChannel<T: Sendable>(_ body: (AMQPChannel) async throws -> T) async throws -> T {
        let channel = try await self.openChannel()
        do {
            let result = try await body(channel)
            try? await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }
}
