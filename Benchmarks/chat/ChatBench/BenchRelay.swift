import AMQPClient
import WarrenCore
import WarrenServices

/// The relay path's service: the least a service between the posters and the room can do with
/// the login service's guarantees. It consumes `<prefix>.bench.relay` with the login service's
/// prefetch, publishes each body unchanged to the room fanout on a channel in confirm mode, and
/// acks once confirmed, one `multiple` ack per run of confirms (``ConfirmedAcks``, as the login
/// service does). No checks, no JSON. Relay against bare is what the extra durable hop and the
/// confirms cost; login against relay is the login service's own work.
enum BenchRelay {
    /// The queue the relay path's posts go to.
    static func queue(_ topology: Topology) -> String { "\(topology.prefix).bench.relay" }

    /// Relays until the connection closes or the consumer is cancelled.
    static func run(on connection: AMQPConnection, topology: Topology, prefetch: UInt16) async throws {
        let publisher = try await connection.openChannel()
        try await publisher.confirmSelect()
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: prefetch)
        let consumer = try await channel.consume(queue: Self.queue(topology))
        let acks = ConfirmedAcks()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await acks.run() }
            group.addTask {
                defer { acks.finish() }
                for try await delivery in consumer {
                    let published = publisher.startPublish(
                        body: delivery.body, exchange: topology.rooms, routingKey: Topology.roomKey(ChatRoom.general), properties: delivery.properties
                    )
                    acks.add(delivery, after: published)
                }
            }
            try await group.waitForAll()
        }
    }
}
