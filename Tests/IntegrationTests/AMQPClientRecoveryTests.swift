import AMQPProtocol
import Foundation
import NIOCore
import Testing

@testable import AMQPClient

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientRecoveryTests {
    @Test func recoversTopologyChannelAndConsumerAfterTheSocketDies() async throws {
        try await AMQPTestSupport.withTimeout(30) {
            let recovering = try await AMQPRecoveringConnection.connect(
                configuration: try AMQPTestSupport.configuration(),
                policy: AMQPRecoveryPolicy(initialDelay: .milliseconds(50), maxDelay: .seconds(1), operationTimeout: .seconds(10))
            )
            let runner = Task { try await recovering.run() }
            let channel = try await recovering.openChannel()
            try await channel.basicQos(prefetchCount: 10)
            try await channel.confirmSelect()
            // Exclusive: the queue dies with the connection, so recovery must declare it again.
            let queue = AMQPTestSupport.uniqueName("recovered")
            try await channel.queueDeclare(queue, exclusive: true)
            let consumer = try await channel.consume(queue: queue)
            var iterator = consumer.makeAsyncIterator()
            try await channel.publish(body: ByteBuffer(string: "before"), routingKey: queue)
            let before = try #require(try await iterator.next())
            #expect(before.bodyString == "before")
            try await before.ack()

            // The network drops: no connection.close, the socket just goes.
            try await recovering.currentConnection?.nioChannel.close()

            try await channel.publish(body: ByteBuffer(string: "after"), routingKey: queue)
            let after = try #require(try await iterator.next())
            #expect(after.bodyString == "after")
            try await after.ack()
            #expect(recovering.generation == 2)
            #expect(channel.currentChannel.connection !== before.channel.connection)

            try await consumer.cancel()
            #expect(try await iterator.next() == nil)
            try await recovering.close()
            try await runner.value
        }
    }
}
