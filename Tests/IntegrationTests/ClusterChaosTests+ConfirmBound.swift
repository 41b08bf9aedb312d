import AMQPClient
import Foundation
import Logging
import Testing
import WarrenCore
import WarrenServices

/// The confirm bound of the roles that publish room events (``RoleService/roomEventConfirmTimeout``),
/// which the chaos drill needs with general from its stream: RabbitMQ 3.10.8 left a publish in
/// flight when the stream's writer moved unconfirmed, and the login service waited for it until
/// its connection went (docs/testing.md). Against the test broker through a proxy that can stall,
/// not the drill's cluster: the confirm a stalled broker never sends stands for the one that one
/// does not send.
extension ClusterChaosTests {
    /// A role that publishes room events gets the shorter bound from its ``RoleService``; a role
    /// that does not (the web role's broker link) keeps the connection's. Through the proxy, with
    /// the request timeout at its default (30 s), a publish on the login service's configuration
    /// fails at that bound while the broker is stalled, and the channel goes on once it answers.
    @Test func aRoleThatPublishesRoomEventsGivesUpOnAConfirmAtItsBound() async throws {
        let proxy = try await HardeningSupport.proxyToBroker()
        defer { Task { await proxy.shutdown() } }
        var base = try HardeningSupport.configuration(through: proxy, name: "room-event confirm bound")
        base.heartbeat = 0
        #expect(base.requestTimeout == .seconds(30))
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": BrokerEnvironment.amqpURL.absoluteString], envFile: nil)
        let logger = Logger(label: "warren.test")
        let login = RoleService(role: LoginRole(configuration: configuration, logger: logger), amqp: base, logger: logger)
        let web = RoleService(role: APIPostPublisher(configuration: configuration, logger: logger), amqp: base, logger: logger)
        #expect(login.amqp.confirmTimeout == RoleService.roomEventConfirmTimeout)
        #expect(web.amqp.confirmTimeout == nil)

        let (connection, channel, queue) = try await Self.confirmingChannelAndQueue(login.amqp)
        defer { Task { try? await connection.close() } }
        await proxy.stall()
        let started = ContinuousClock.now
        // Under the request timeout (30 s), over the bound (10 s): past it, DeadlineExceeded
        // (not an AMQPError) says the bound did not act.
        let error = await #expect(throws: AMQPError.self) {
            try await withDeadline(.seconds(25), "the publish to fail") {
                try await channel.publish("lost?", routingKey: queue)
            }
        }
        #expect(error?.code == .timeout, "\(String(describing: error)) after \(ContinuousClock.now - started)")
        await proxy.resume()
        try await eventually("a confirmed publish after the stall") {
            (try? await channel.publish("confirmed", routingKey: queue)) != nil
        }
        #expect(channel.closeReason == nil)
    }

    /// A connection with `configuration`, a channel in confirm mode on it and an exclusive queue
    /// of its own to publish to.
    static func confirmingChannelAndQueue(_ configuration: AMQPConfiguration) async throws -> (AMQPConnection, AMQPChannel, String) {
        let connection = try await AMQPConnection.connect(configuration: configuration)
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        let queue = AMQPTestSupport.uniqueName("unconfirmed")
        _ = try await channel.queueDeclare(queue, exclusive: true, autoDelete: true)
        return (connection, channel, queue)
    }
}
