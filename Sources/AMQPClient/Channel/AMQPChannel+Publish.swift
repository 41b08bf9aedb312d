import AMQPProtocol
import NIOCore

extension AMQPChannel {
    /// Publishes a message (`basic.publish`).
    ///
    /// The body is split into frames of at most frame-max − 8 bytes; an empty body sends a
    /// header frame only. Without confirm mode this returns once the frames are queued for the
    /// socket (and, while the socket's outbound buffer is over its high watermark, once they
    /// are written), which says nothing about whether the broker got them; after ``confirmSelect()`` it returns once the broker acks the message, and at most
    /// `maxOutstandingConfirms` publishes are unconfirmed at a time (further ones wait). While
    /// the broker blocks the connection (`connection.blocked`) it waits, up to
    /// `blockedPublishTimeout`.
    ///
    /// - Parameters:
    ///   - body: The message body.
    ///   - exchange: The exchange; "" is the default exchange, which routes by queue name.
    ///   - routingKey: The routing key.
    ///   - mandatory: Return the message on ``returns`` when no queue takes it.
    ///   - properties: The message properties.
    /// - Throws: ``AMQPError``: `publishNacked` on a nack, `connectionBlockedTimeout`, or the
    ///   channel's or connection's error when it closed.
    public func publish(
        body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) async throws {
        try await self.startPublish(body: body, exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties).confirmed()
    }

    /// Publishes a message whose body is the given bytes.
    public func publish(
        body: some Sequence<UInt8> & Sendable,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) async throws {
        try await self.publish(body: ByteBuffer(bytes: body), exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties)
    }

    /// Publishes a message whose body is UTF-8 text.
    public func publish(
        _ text: String,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) async throws {
        try await self.publish(body: ByteBuffer(string: text), exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties)
    }
}
