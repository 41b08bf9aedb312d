import AMQPClient
import Logging

extension AMQPDelivery {
    /// Rejects without requeue, so the broker dead-letters the message, and logs why.
    func deadLetter(_ reason: String, logger: Logger) async throws {
        logger.warning(
            "rejected to dead-letter",
            metadata: ["reason": "\(reason)", "routingKey": "\(self.routingKey)", "bytes": "\(self.body.readableBytes)"]
        )
        try await self.reject(requeue: false)
    }
}
