import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Message properties Warren publishes with.
enum WarrenProperties {
    /// JSON, persistent: for messages that go to durable queues.
    static func persistent(messageID: String? = nil, headers: FieldTable? = nil) -> BasicProperties {
        var properties = BasicProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = BasicProperties.persistentDeliveryMode
        properties.messageID = messageID
        properties.headers = headers
        return properties
    }

    /// JSON, transient, with a correlation id: for replies to temporary reply queues.
    static func reply(correlationID: String?) -> BasicProperties {
        var properties = BasicProperties()
        properties.contentType = "application/json"
        properties.correlationID = correlationID
        return properties
    }
}

/// Header on `post.pow` / `post.rpc` messages that names the sender's tab queue, so the
/// reverser can tell that tab when its proof fails. Never set on `post.plain`, which the room
/// (every tab) receives.
public let replyQueueHeader = "x-warren-reply-queue"

extension AMQPChannel {
    /// Publishes a wire message as JSON.
    func publish(_ message: some WireMessage, exchange: String = "", routingKey: String, properties: BasicProperties) async throws {
        try await self.publish(body: ByteBuffer(bytes: message.encode()), exchange: exchange, routingKey: routingKey, properties: properties)
    }

    /// Starts publishing a wire message as JSON; await the result's `confirmed()` before acking
    /// what it was made from.
    func startPublish(_ message: some WireMessage, exchange: String = "", routingKey: String, properties: BasicProperties) -> AMQPPendingPublish {
        self.startPublish(body: ByteBuffer(bytes: message.encode()), exchange: exchange, routingKey: routingKey, properties: properties)
    }

    /// Opens a channel in confirm mode.
    static func confirming(on connection: AMQPConnection) async throws -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        return channel
    }
}

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
