import AMQPProtocol
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import AMQPClient

/// Recovery against a broker of the test's own (``PrivateBroker``), which these tests restart
/// and force-close: the shared test broker is never disturbed. Serialized: one private node at
/// a time on the private ports.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed")
)
struct AMQPClientBrokerRestartTests {
    static let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), operationTimeout: .seconds(120))

    /// What the consumer saw, shared with the test body.
    final class Seen: Sendable {
        struct State {
            var received: [Int: Int] = [:]
            var duplicatesNotRedelivered = 0
            var staleAckErrors = 0
            /// The consumer holds a delivery unacknowledged until the broker was restarted.
            var holding = false
            var restarted = false
        }
        let state = NIOLockedValueBox(State())
        var distinct: Int { self.state.withLockedValue { $0.received.count } }
    }

    @Test func aConfirmingPublisherAndAnAckingConsumerLoseNothingAcrossABrokerRestart() async throws {
        let count = 600
        try await Self.withRecoveringConnection(timeout: 300) { broker, recovering in
            let publisher = try await recovering.openChannel()
            try await publisher.confirmSelect()
            let consuming = try await recovering.openChannel()
            try await consuming.basicQos(prefetchCount: 20)
            // Durable, with persistent messages: what was confirmed survives the restart.
            let queue = AMQPTestSupport.uniqueName("restart")
            try await consuming.queueDeclare(queue, durable: true)
            let consumer = try await consuming.consume(queue: queue)
            let seen = Seen()

            let consumed = Task {
                // One iterator for the whole test: the same sequence goes on after the restart.
                var iterator = consumer.makeAsyncIterator()
                while seen.distinct < count, let delivery = try await iterator.next() {
                    let id = try #require(delivery.properties.messageID.flatMap { Int($0) })
                    let hold = seen.state.withLockedValue { state in
                        if state.received[id] != nil, !delivery.redelivered { state.duplicatesNotRedelivered += 1 }
                        state.received[id, default: 0] += 1
                        // At a quarter, stop acking until the restart: up to the prefetch
                        // count of deliveries are unacknowledged when the broker goes.
                        if state.received.count == count / 4, !state.restarted {
                            state.holding = true
                            return true
                        }
                        return false
                    }
                    if hold { try await Self.waitUntil { seen.state.withLockedValue { $0.restarted } } }
                    do {
                        try await delivery.ack()
                    } catch let error as AMQPError {
                        // A delivery from before the restart: the broker redelivers it.
                        #expect(error.code == .connectionClosed || error.isConnectionLoss || error.code == .channelClosed, "\(error)")
                        seen.state.withLockedValue { $0.staleAckErrors += 1 }
                    }
                }
            }

            func publish(_ ids: Range<Int>) async throws {
                for id in ids {
                    let properties = BasicProperties(deliveryMode: BasicProperties.persistentDeliveryMode, messageID: String(id))
                    try await publisher.publish(body: ByteBuffer(string: "message \(id)"), routingKey: queue, properties: properties)
                }
            }

            // Half before the restart; the consumer stops acking at a quarter.
            try await publish(0..<(count / 2))
            try await Self.waitUntil { seen.state.withLockedValue { $0.holding } }

            // The broker stops; the rest is published meanwhile: those publishes wait
            // for the recovery, which comes once the broker is back.
            try await broker.stop()
            let secondHalf = Task { try await publish((count / 2)..<count) }
            try await broker.start()
            try await Self.waitUntil { recovering.generation >= 2 }
            seen.state.withLockedValue { $0.restarted = true }
            try await secondHalf.value
            try await consumed.value

            let state = seen.state.withLockedValue { $0 }
            #expect(recovering.generation >= 2, "the connection was recovered")
            #expect(Set(state.received.keys) == Set(0..<count), "every confirmed message arrived")
            // A sequential publisher has one publish in flight, resent at most once per recovery.
            #expect(state.duplicatesNotRedelivered <= recovering.generation - 1)
            // The held delivery's ack is a clear error: it is redelivered instead.
            #expect(state.staleAckErrors >= 1)
            try await consumer.cancel()
            _ = try? await consuming.queueDelete(queue)
        }
    }

    @Test func aServerNamedQueueIsDeclaredAgainWithItsBindingAndConsumerAfterTheBrokerClosesTheConnection() async throws {
        try await Self.withRecoveringConnection(timeout: 120) { broker, recovering in
            let channel = try await recovering.openChannel()
            let exchange = AMQPTestSupport.uniqueName("fanout")
            try await channel.exchangeDeclare(exchange, type: "fanout")
            let first = try await channel.queueDeclare("", exclusive: true).queue
            #expect(first.hasPrefix("amq.gen-"))
            try await channel.queueBind(queue: first, exchange: exchange)
            let consumer = try await channel.consume(queue: first, noAck: true)
            var deliveries = consumer.makeAsyncIterator()
            var renames = recovering.queueRenames.makeAsyncIterator()

            try await channel.publish(body: ByteBuffer(string: "before"), exchange: exchange, routingKey: "")
            #expect(try await deliveries.next()?.bodyString == "before")

            try await broker.ctl(["close_all_connections", "-p", BrokerEnvironment.vhost, "recovery test"])

            let rename = try #require(await renames.next())
            #expect(rename.oldName == first)
            #expect(rename.newName != first && rename.newName.hasPrefix("amq.gen-"))
            #expect(recovering.currentQueueName(first) == rename.newName)

            // Through the binding, which moved to the new queue...
            try await channel.publish(body: ByteBuffer(string: "through the exchange"), exchange: exchange, routingKey: "")
            #expect(try await deliveries.next()?.bodyString == "through the exchange")
            // ... and by the queue's new name on the default exchange.
            try await channel.publish(body: ByteBuffer(string: "by name"), routingKey: recovering.currentQueueName(first))
            let byName = try #require(try await deliveries.next())
            #expect(byName.bodyString == "by name")
            #expect(byName.routingKey == rename.newName)
            #expect(recovering.generation == 2)

            try await consumer.cancel()
            try await channel.currentChannel.exchangeDelete(exchange)
        }
    }

    /// Starts a private broker, connects a recovering connection to it and runs it, runs
    /// `body`, then closes the connection and kills the broker, also when `body` throws.
    static func withRecoveringConnection(
        timeout: Double,
        _ body: @escaping @Sendable (PrivateBroker, AMQPRecoveringConnection) async throws -> Void
    ) async throws {
        try await PrivateBroker.with { broker in
            try await AMQPTestSupport.withTimeout(timeout) {
                let recovering = try await AMQPRecoveringConnection.connect(configuration: try broker.configuration(), policy: Self.policy)
                let runner = Task { try await recovering.run() }
                do {
                    try await body(broker, recovering)
                    try await recovering.close()
                    try await runner.value
                } catch {
                    try? await recovering.close()
                    runner.cancel()
                    throw error
                }
            }
        }
    }

    /// Polls `condition` every 20 ms; the caller's withTimeout bounds the wait.
    static func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        while !condition() {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
