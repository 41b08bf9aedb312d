import AMQPClient
import AMQPProtocol
import WarrenCore
import WarrenOps

extension LoginRole {
    /// Admits a post the web role sent for the REST API, on behalf of the person its access
    /// token named (``PostAuthor/onBehalfHeader``).
    ///
    /// The header is trusted only from the services' own broker account; anything else is
    /// dead-lettered, whatever `WARREN_BROKER_AUTH` says. A trusted post is validated like a
    /// tab's, but needs no tab queue: it goes to the posts exchange and, once confirmed, the
    /// event's id goes back on the post's reply queue (`PostReply`) before the post is acked;
    /// a refusal goes back the same way. Only a post with no reply queue to tell a refusal is
    /// dead-lettered, so no API post is dropped without a trace.
    ///
    /// A `!pow` / `!rpc` post carries no reply-queue header: there is no tab to tell if its
    /// proof fails (the reverser logs that).
    ///
    /// Everything is finished on return (the post loop waits for this post's confirm): API
    /// posts are rare, and the reply must follow the confirm. The loop's batched multiple acks
    /// never reach this delivery early, since they cover only posts handed over before it.
    func handleAPIPost(
        _ delivery: AMQPDelivery, post: InboxPost, onBehalfOf: String?, publisher: AMQPChannel
    ) async throws {
        let author = onBehalfOf ?? "(a header that is not a string)"
        if let reason = PostAuthor.onBehalfRefusal(userID: delivery.properties.userID, serviceUser: self.serviceUser, onBehalfOf: author, login: post.login) {
            PostTrail.refused(.loginNotVouched, clientId: post.clientId, logger: self.logger)
            try await delivery.deadLetter("post refused: \(reason)", logger: self.logger)
            return
        }
        let replyTo = delivery.properties.replyTo.flatMap { $0.isEmpty ? nil : $0 }
        let correlationID = delivery.properties.correlationID
        let accepted: AcceptedPost
        do throws(Refusal) {
            accepted = try AcceptedPost(post)
        } catch {
            PostTrail.refused(error.code, clientId: post.clientId, logger: self.logger)
            guard let replyTo else {
                try await delivery.deadLetter("API post refused (\(error)) and no reply queue to tell", logger: self.logger)
                return
            }
            try await publisher.publishReply(PostReply.refused(error, clientId: post.clientId), to: replyTo, correlationID: correlationID)
            self.logger.info("API post refused", metadata: ["code": "\(error.code)", "login": "\(post.login)"])
            try await delivery.ack()
            return
        }
        guard try await self.mayPost(accepted.login, room: accepted.room) else {
            let refusal = Self.notMember(accepted.room)
            if let replyTo {
                try await publisher.publishReply(PostReply.refused(refusal, clientId: post.clientId), to: replyTo, correlationID: correlationID)
                try await delivery.ack()
            } else {
                try await delivery.deadLetter("API post refused (\(refusal)) and no reply queue to tell", logger: self.logger)
            }
            self.logger.info("API post refused", metadata: ["code": "\(refusal.code)", "login": "\(accepted.login)", "room": "\(accepted.room)"])
            return
        }
        let event = self.event(for: accepted)
        let published = self.startPublish(accepted, event: event, replyQueue: nil, publisher: publisher)
        self.logger.debug("API post accepted", metadata: ["id": "\(event.id)", "clientId": "\(accepted.clientId)", "login": "\(accepted.login)", "route": "\(accepted.route.rawValue)"])
        try await published.confirmed()
        if let replyTo {
            try await publisher.publishReply(PostReply.admitted(id: event.id, clientId: accepted.clientId), to: replyTo, correlationID: correlationID)
        }
        try await delivery.ack()
    }
}
