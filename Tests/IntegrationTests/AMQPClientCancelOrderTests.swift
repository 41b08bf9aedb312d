import AMQPClient
import NIOCore
import Testing

/// Leaving a consumer's loop sends `basic.cancel` from another task; a synchronous method sent
/// on the same channel right after must still get its own reply. Two helpers saw
/// "queue.declare-ok does not answer basic.cancel" (505, channel closed) in that spot.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientCancelOrderTests {
    @Test(arguments: [false, true])
    func aMethodRightAfterLeavingAConsumerGetsItsOwnReply(explicitCancel: Bool) async throws {
        try await AMQPTestSupport.withConnection(timeout: 60) { connection in
            let channel = try await connection.openChannel()
            for round in 0..<100 {
                let queue = try await channel.queueDeclare(exclusive: true).queue
                try await channel.publish(body: ByteBuffer(string: "\(round)"), routingKey: queue)
                let consumer = try await channel.consume(queue: queue, noAck: true)
                for try await delivery in consumer {
                    #expect(delivery.bodyString == "\(round)")
                    break
                }
                if explicitCancel { try await consumer.cancel() }
                let declared = try await channel.queueDeclare(queue, passive: true)
                #expect(declared.messageCount == 0)
                #expect(try await channel.queueDelete(queue) == 0)
            }
            #expect(channel.closeReason == nil)
        }
    }
}
