import AMQPClient
import AMQPProtocol
import Foundation
import NIOCore
import Testing
import WarrenCore

/// Nothing the client awaits waits forever: a full consumer does not hold back the replies and
/// confirms a loop is waiting for, and a broker that does not answer is a timeout, not a hang.
///
/// The waits use `withDeadline`, which returns at its limit even when the awaited future
/// ignores cancellation: a test of a hang must not hang itself.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientBoundedWaitTests {
    /// Fills a consumer's buffer (nobody iterates it) with `deliveries` messages, then publishes
    /// on another channel in confirm mode; returns whether the confirm came.
    private func confirmArrives(prefetch: UInt16, noAck: Bool, bufferSize: Int, deliveries: Int) async throws -> Bool {
        var configuration = try AMQPTestSupport.configuration()
        configuration.consumerBufferSize = bufferSize
        let connection = try await AMQPConnection.connect(configuration: configuration)
        defer { Task { try? await connection.close() } }
        let queue = AMQPTestSupport.uniqueName("full-consumer")
        let publisher = try await connection.openChannel()
        try await publisher.confirmSelect()
        _ = try await publisher.queueDeclare(queue, exclusive: true, autoDelete: true)
        for index in 0..<deliveries { try await publisher.publish("m\(index)", routingKey: queue) }

        let consuming = try await connection.openChannel()
        if prefetch > 0 { try await consuming.basicQos(prefetchCount: prefetch) }
        let consumer = try await consuming.consume(queue: queue, noAck: noAck)
        // Let the broker deliver up to the prefetch; the consumer's buffer fills, nobody reads it.
        try await Task.sleep(for: .milliseconds(300))

        let confirmed: Bool
        do {
            try await withDeadline(.seconds(TestPatience.scaled(5)), "the confirm") {
                try await publisher.publish("after", routingKey: queue)
            }
            confirmed = true
        } catch is DeadlineExceeded {
            confirmed = false
        }
        _ = consumer
        return confirmed
    }

    /// The login service's wedge (500 tabs at once): its login consumer held the prefetch, the
    /// loop awaited a reply's confirm, and the full consumer had stopped socket reads, so the
    /// confirm was never read. A consumer bounded by its prefetch never stops reads.
    @Test func aConsumerFullToItsPrefetchDoesNotHoldBackAConfirm() async throws {
        #expect(try await self.confirmArrives(prefetch: 4, noAck: false, bufferSize: 4, deliveries: 10))
    }

    /// A consumer without acknowledgements (no prefetch bound) still stops socket reads when
    /// full, but not while a confirm is awaited.
    @Test func anUnboundedFullConsumerDoesNotHoldBackAConfirmEither() async throws {
        #expect(try await self.confirmArrives(prefetch: 0, noAck: true, bufferSize: 2, deliveries: 10))
    }

    /// A request the broker never answers (the proxy between goes silent) fails with `timeout`
    /// after `requestTimeout`, and its channel is closed; the connection goes on once the
    /// proxy talks again.
    @Test func aRequestWithNoAnswerTimesOut() async throws {
        let proxy = try await HardeningSupport.proxyToBroker()
        defer { Task { await proxy.shutdown() } }
        var configuration = try HardeningSupport.configuration(through: proxy, name: "bounded wait: request")
        configuration.heartbeat = 0  // the request timeout, not the heartbeat, must end the wait
        configuration.requestTimeout = .milliseconds(Int64(500 * TestPatience.factor))  // set-up requests on a busy machine
        let connection = try await AMQPConnection.connect(configuration: configuration)
        defer { Task { try? await connection.close() } }
        // On a busy machine the channel's own opening may outlast the short timeout: tried again.
        var opened: AMQPChannel?
        try await eventually("a channel through the proxy") {
            opened = try? await connection.openChannel()
            return opened != nil
        }
        let channel = try #require(opened)

        await proxy.stall()
        let error = await #expect(throws: AMQPError.self) {
            try await withDeadline(.seconds(TestPatience.scaled(10)), "the declare to fail") {
                _ = try await channel.queueDeclare(AMQPTestSupport.uniqueName("unanswered"), exclusive: true, autoDelete: true)
            }
        }
        #expect(error?.code == .timeout)
        await proxy.resume()
        try await eventually("the timed-out channel to close") { channel.closeReason != nil }
        // The connection goes on (on a busy machine one try may itself outlast the short timeout).
        try await eventually("a declare on a fresh channel") {
            guard let fresh = try? await connection.openChannel() else { return false }
            return (try? await fresh.queueDeclare(AMQPTestSupport.uniqueName("answered"), exclusive: true, autoDelete: true)) != nil
        }
    }

    /// A publish whose confirm never comes fails with `timeout`; the channel stays usable.
    @Test func aPublishWithNoConfirmTimesOut() async throws {
        let proxy = try await HardeningSupport.proxyToBroker()
        defer { Task { await proxy.shutdown() } }
        var configuration = try HardeningSupport.configuration(through: proxy, name: "bounded wait: confirm")
        configuration.heartbeat = 0
        // Set-up requests must be answered within it on a busy machine too (1.5 s was not).
        configuration.requestTimeout = .milliseconds(Int64(1_000 * TestPatience.factor))
        let connection = try await AMQPConnection.connect(configuration: configuration)
        defer { Task { try? await connection.close() } }
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        let queue = AMQPTestSupport.uniqueName("unconfirmed")
        _ = try await channel.queueDeclare(queue, exclusive: true, autoDelete: true)

        await proxy.stall()
        let error = await #expect(throws: AMQPError.self) {
            try await withDeadline(.seconds(TestPatience.scaled(10)), "the publish to fail") {
                try await channel.publish("lost?", routingKey: queue)
            }
        }
        #expect(error?.code == .timeout)
        await proxy.resume()
        // The channel goes on (on a busy machine one try may itself outlast the short timeout).
        try await eventually("a confirmed publish after the stall") {
            (try? await channel.publish("confirmed", routingKey: queue)) != nil
        }
        #expect(channel.closeReason == nil)
    }
}
