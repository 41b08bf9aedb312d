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

    /// Starts publishing a wire message as JSON; await the result's `confirmed()` before acking
    /// what it was made from.
    func startPublish(_ message: some WireMessage, exchange: String = "", routingKey: String, properties: BasicProperties) -> AMQPPendingPublish {
        BrokerMetrics.published(message)
        return self.startPublish(body: ByteBuffer(bytes: message.encode()), exchange: exchange, routingKey: routingKey, properties: properties)
    }

    /// Opens a channel in confirm mode.
    static func confirming(on connection: AMQPConnection) async throws -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        return channel
    }
}
