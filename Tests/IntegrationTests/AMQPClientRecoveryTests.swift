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

    @Test func aRunOfNacksReopensTheChannelAndResendsThePublishKeepingItsConsumer() async throws {
        try await AMQPTestSupport.withTimeout(30) {
            let recovering = try await AMQPRecoveringConnection.connect(
                configuration: try AMQPTestSupport.configuration(),
                policy: AMQPRecoveryPolicy(initialDelay: .milliseconds(50), maxDelay: .seconds(1), operationTimeout: .seconds(10), nackRunLimit: 3)
            )
            let runner = Task { try await recovering.run() }
            let channel = try await recovering.openChannel()
            try await channel.confirmSelect()
            // A full queue that refuses more: the broker nacks every publish to it.
            let full = AMQPTestSupport.uniqueName("full")
            try await channel.queueDeclare(full, exclusive: true, arguments: ["x-max-length": .int32(1), "x-overflow": "reject-publish"])
            let other = AMQPTestSupport.uniqueName("other")
            try await channel.queueDeclare(other, exclusive: true)
            let consumer = try await channel.consume(queue: other, noAck: true)
            var deliveries = consumer.makeAsyncIterator()
            try await channel.publish(body: ByteBuffer(string: "fits"), routingKey: full)
            try await channel.publish(body: ByteBuffer(string: "one"), routingKey: other)
            #expect(try await deliveries.next()?.bodyString == "one")

            let first = channel.currentChannel
            for _ in 0..<2 {
                let error = await #expect(throws: AMQPError.self) { try await channel.publish(body: ByteBuffer(string: "refused"), routingKey: full) }
                #expect(error?.code == .publishNacked)
                #expect(channel.currentChannel === first, "two nacks are not a run of three yet")
            }
            // The third nack completes the run: a new channel, the publish sent again (and, the
            // queue being still full, nacked again: that one reaches the caller).
            let error = await #expect(throws: AMQPError.self) { try await channel.publish(body: ByteBuffer(string: "refused"), routingKey: full) }
            #expect(error?.code == .publishNacked)
            #expect(channel.currentChannel !== first)
            #expect(first.closeReason != nil, "the old channel was closed")
            #expect(recovering.generation == 1, "the connection itself stayed")

            // The consumer goes on over the new channel, under the same sequence.
            try await channel.publish(body: ByteBuffer(string: "two"), routingKey: other)
            #expect(try await deliveries.next()?.bodyString == "two")
            _ = try await channel.currentChannel.queuePurge(full)
            try await channel.publish(body: ByteBuffer(string: "fits again"), routingKey: full)

            try await consumer.cancel()
            #expect(try await deliveries.next() == nil)
            try await recovering.close()
            try await runner.value
        }
    }
}
