import AMQPClient
import Foundation
import NIOCore
import Testing

/// Rough throughput of this client on the test broker, 100-byte transient messages, in the
/// shapes of the pika/aio-pika baselines in broker-notes.md. Opt-in (WARREN_AMQP_BENCH=1) and
/// meaningful only in a release build: `swift test -c release --filter AMQPClientBenchmark`.
@Suite(.enabled(if: BrokerEnvironment.enabled && ProcessInfo.processInfo.environment["WARREN_AMQP_BENCH"] == "1", "benchmarks are opt-in"))
struct AMQPClientBenchmarkTests {
    static let body = ByteBuffer(repeating: 0x61, count: 100)

    static func rate(_ count: Int, since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Int(Double(count) / seconds)
    }

    @Test func throughput() async throws {
        let count = 50_000
        try await AMQPTestSupport.withConnection(timeout: 120) { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue

            var start = ContinuousClock.now
            for _ in 0..<count { try await channel.publish(body: Self.body, routingKey: queue) }
            _ = try await channel.queueDeclare(queue, passive: true)  // a round trip: all publishes processed
            let publishRate = Self.rate(count, since: start)

            start = ContinuousClock.now
            var received = 0
            for try await _ in try await channel.consume(queue: queue, noAck: true) {
                received += 1
                if received == count { break }
            }
            let noAckRate = Self.rate(count, since: start)

            for _ in 0..<count { try await channel.publish(body: Self.body, routingKey: queue) }
            let ackChannel = try await connection.openChannel()
            try await ackChannel.basicQos(prefetchCount: 100)
            start = ContinuousClock.now
            received = 0
            for try await delivery in try await ackChannel.consume(queue: queue) {
                received += 1
                try await delivery.ack()
                if received == count { break }
            }
            let ackRate = Self.rate(count, since: start)

            let confirmChannel = try await connection.openChannel()
            try await confirmChannel.confirmSelect()
            let confirmCount = 20_000
            start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<64 {
                    group.addTask {
                        for _ in stride(from: lane, to: confirmCount, by: 64) {
                            try await confirmChannel.publish(body: Self.body, routingKey: queue)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let confirmRate = Self.rate(confirmCount, since: start)
            _ = try await channel.queuePurge(queue)
            print("AMQPClient throughput (msg/s): publish \(publishRate), consume no-ack \(noAckRate), consume ack prefetch 100 \(ackRate), publish with confirms (64 in flight) \(confirmRate)")
        }
    }
}
