import AMQPClient
import AMQPProtocol
import NIOCore
import Testing

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientPipelinedPublishTests {
    /// `startPublish` returns before the confirm; publishes started one after another arrive in
    /// that order, and every one is confirmed.
    @Test func startedPublishesAreConfirmedAndKeepTheirOrder() async throws {
        let count = 2_000
        try await AMQPTestSupport.withConnection(timeout: 40) { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            try await channel.confirmSelect()
            var pending: [AMQPPendingPublish] = []
            for index in 0..<count {
                pending.append(channel.startPublish(body: ByteBuffer(string: "\(index)"), routingKey: queue))
            }
            for publish in pending { try await publish.confirmed() }
            #expect(try await channel.queueDeclare(queue, passive: true).messageCount == UInt32(count))
            let consumer = try await channel.consume(queue: queue, noAck: true)
            var expected = 0
            for try await delivery in consumer {
                #expect(delivery.bodyString == "\(expected)")
                expected += 1
                if expected == count { break }
            }
            #expect(expected == count)
        }
    }

    /// A publish on a closed channel fails when its confirm is awaited, not silently.
    @Test func aStartedPublishOnAClosedChannelFails() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            try await channel.confirmSelect()
            try await channel.close()
            let pending = channel.startPublish(body: ByteBuffer(string: "late"), routingKey: "nowhere")
            await #expect(throws: AMQPError.self) { try await pending.confirmed() }
        }
    }
}
