import AMQPClient
import AMQPProtocol
import NIOCore
import WarrenCore
import WarrenOps

extension AMQPChannel {
    /// Publishes a wire message as JSON.
    func publish(_ message: some WireMessage, exchange: String = "", routingKey: String, properties: BasicProperties) async throws {
        BrokerMetrics.published(message)
        try await self.publish(body: ByteBuffer(bytes: message.encode()), exchange: exchange, routingKey: routingKey, properties: properties)
    }

    /// Publishes a wire message as JSON, a reply to `replyTo` with `correlationID`: a direct
    /// reply-to address through the connection's reply path (`AMQPChannel.publishReply`), so a
    /// requester gone with its node costs that reply alone, never this connection's consumers.
    func publishReply(_ message: some WireMessage, to replyTo: String, correlationID: String?) async throws {
        BrokerMetrics.published(message)
        try await self.publishReply(body: ByteBuffer(bytes: message.encode()), to: replyTo, properties: WarrenProperties.reply(correlationID: correlationID))
    }

    /// Starts publishing a wire message as JSON; await the result's `confirmed()` before acking
    /// what it was made from.
    func startPublish(_ message: some WireMessage, exchange: String = "", routingKey: String, properties: BasicProperties) -> AMQPPendingPublish {
        BrokerMetrics.published(message)
        return self.startPublish(body: ByteBuffer(bytes: message.encode()), exchange: exchange, routingKey: routingKey, properties: properties)
    }

    /// Publishes a room event to the rooms exchange with its room's key (`room.<id>`),
    /// persistent with its id as message id; a transient kind (typing) goes non-persistent and
    /// expires after `expiresMs`, so a queue nobody reads does not keep it.
    func publish(roomEvent event: RoomEvent, topology: Topology, expiresMs: Int? = nil) async throws {
        try await self.startPublish(roomEvent: event, topology: topology, expiresMs: expiresMs).confirmed()
    }

    /// Starts publishing a room event (see ``publish(roomEvent:topology:expiresMs:)``).
    func startPublish(roomEvent event: RoomEvent, topology: Topology, expiresMs: Int? = nil) -> AMQPPendingPublish {
        var properties = WarrenProperties.persistent(messageID: event.id)
        if let expiresMs {
            properties.deliveryMode = 1
            properties.expiration = String(expiresMs)
        }
        return self.startPublish(event, exchange: topology.rooms, routingKey: Topology.roomKey(event.room), properties: properties)
    }

    /// Opens a channel in confirm mode.
    static func confirming(on connection: AMQPConnection) async throws -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        return channel
    }
}
