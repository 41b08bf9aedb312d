import AMQPClient
import AMQPProtocol
import WarrenCore

extension LoginRole {
    /// Handles a typing notice (`"typing": true` in the inbox): a valid one from a tab whose
    /// queue exists, for a room its author belongs to, goes to the room as a `typing` event,
    /// transient and expiring after ``SharedRules/typingShownMs`` (the history role does not keep
    /// it). At most one per tab per ``SharedRules/typingIntervalMs`` goes out; the others are
    /// dropped here, on purpose. Returns the publish to acknowledge after, if there is one.
    func handleTyping(_ delivery: AMQPDelivery, post: InboxPost, probe: QueueProbe, publisher: AMQPChannel) async throws -> AMQPPendingPublish? {
        let notice: AcceptedTyping
        do throws(Refusal) {
            notice = try AcceptedTyping(post)
        } catch {
            try await delivery.deadLetter("typing notice refused: \(error)", logger: self.logger)
            return nil
        }
        let queue = self.topology.userQueue(login: notice.login, session: notice.session)
        guard self.typingThrottle.admit(queue) else {
            self.logger.trace("typing notice dropped: too soon after the last", metadata: ["queue": "\(queue)"])
            try await delivery.ack()
            return nil
        }
        guard try await probe.exists(queue) else {
            try await delivery.deadLetter("typing notice refused: no queue \(queue)", logger: self.logger)
            return nil
        }
        guard try await self.mayPost(notice.login, room: notice.room) else {
            self.logger.info("typing notice dropped: not a member", metadata: ["room": "\(notice.room)", "queue": "\(queue)"])
            try await delivery.ack()
            return nil
        }
        let event = notice.event(id: self.ids.nextString(), at: self.now())
        return publisher.startPublish(roomEvent: event, topology: self.topology, expiresMs: SharedRules.typingShownMs)
    }
}
