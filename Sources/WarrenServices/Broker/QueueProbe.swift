import AMQPClient
import NIOConcurrencyHelpers

/// A channel kept open for passive declares, so checking that a queue exists costs one round
/// trip; a 404 closes the channel, and the next check opens a new one. Meant for one consumer
/// loop: concurrent checks could see each other's 404.
///
/// With `recent`, a queue seen to exist is taken to exist until the memory's lifetime has
/// passed, without asking again (a queue deleted meanwhile, except by the memory's owner, still
/// counts as there until then).
final class QueueProbe: Sendable {
    private let connection: AMQPConnection
    private let channel = NIOLockedValueBox<AMQPChannel?>(nil)
    private let recent: SharedRecentQueues?

    init(connection: AMQPConnection, recent: SharedRecentQueues? = nil) {
        self.connection = connection
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
        let channel: AMQPChannel
        if let open = self.channel.withLockedValue({ $0 }), open.closeReason == nil {
            channel = open
        } else {
            channel = try await self.connection.openChannel()
            self.channel.withLockedValue { $0 = channel }
        }
        do {
            _ = try await channel.queueDeclare(queue, passive: true)
            return true
        } catch let error as AMQPError where error.code == .notFound {
            self.channel.withLockedValue { $0 = nil }
            return false
        }
    }

    /// Closes the channel.
    func close() async {
        let channel = self.channel.withLockedValue { $0 }
        try? await channel?.close()
    }
}
