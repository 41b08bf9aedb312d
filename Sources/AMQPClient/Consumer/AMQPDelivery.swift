import AMQPProtocol
import NIOCore

/// A message the broker delivered to a consumer (`basic.deliver`) or handed out by `basic.get`.
public struct AMQPDelivery: Sendable {
    /// The message body.
    public var body: ByteBuffer
    /// The message properties.
    public var properties: BasicProperties
    /// The tag that acknowledges this message on its channel.
    public var deliveryTag: UInt64
    /// Whether the broker delivered this message before (it was requeued).
    public var redelivered: Bool
    /// The exchange the message was published to ("" for the default exchange).
    public var exchange: String
    /// The routing key the message was published with.
    public var routingKey: String
    /// The consumer tag, for consumer deliveries; nil for `basic.get`.
    public var consumerTag: String?
    /// The channel the message arrived on; acknowledgements go there.
    public let channel: AMQPChannel

    /// The body as bytes.
    public var bodyBytes: [UInt8] {
        Array(self.body.readableBytesView)
    }

    /// The body as UTF-8 text.
    public var bodyString: String {
        String(buffer: self.body)
    }

    /// Acknowledges this message (and, with `multiple`, every earlier unacknowledged one).
    public func ack(multiple: Bool = false) async throws {
        try await self.channel.ack(deliveryTag: self.deliveryTag, multiple: multiple)
    }

    /// Rejects this message (and, with `multiple`, every earlier one); `requeue` puts it back in the queue.
    public func nack(multiple: Bool = false, requeue: Bool = true) async throws {
        try await self.channel.nack(deliveryTag: self.deliveryTag, multiple: multiple, requeue: requeue)
    }

    /// Rejects this message; `requeue` puts it back in the queue.
    public func reject(requeue: Bool = true) async throws {
        try await self.channel.reject(deliveryTag: self.deliveryTag, requeue: requeue)
    }
}

/// A mandatory message the broker could not route and sent back (`basic.return`).
public struct AMQPReturnedMessage: Sendable {
    /// Why it came back, e.g. 312 NO_ROUTE.
    public var replyCode: UInt16
    /// The broker's explanation, e.g. "NO_ROUTE".
    public var replyText: String
    /// The exchange it was published to.
    public var exchange: String
    /// The routing key it was published with.
    public var routingKey: String
    /// The message properties.
    public var properties: BasicProperties
    /// The message body.
    public var body: ByteBuffer
}

/// The answer to `basic.get`: the message, and how many remain in the queue.
public struct AMQPGetResult: Sendable {
    /// The message.
    public var delivery: AMQPDelivery
    /// How many messages the queue still held when this one was taken.
    public var messageCount: UInt32
}
