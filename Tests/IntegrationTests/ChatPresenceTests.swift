import AMQPClient
import AMQPProtocol
import Foundation
import NIOCore
import Testing
import WarrenCore
import WarrenServices

/// Who is online, through the real broker: a tab counts while it consumes its person's online
/// queue (as the page does after the login), and stops counting when its connection goes; a
/// reload (the same session logged in again on a new connection) counts again.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatPresenceTests {
    @Test func aTabCountsOnlineWhileConnectedAndAgainAfterAReload() async throws {
        try await ChatHarness.with(timeout: 90) { chat in
            try await chat.start(chat.login())
            let router = RoomRouter(configuration: chat.configuration, onlineMemory: .zero, logger: chat.logger)
            try await chat.start(router)
            let session = ChatHarness.randomSession()
            chat.people.withLockedValue { _ = $0.insert("alice") }

            // The login names the online queue; the page subscribes to it.
            let page = try await chat.connectAsBrowser()
            let reply = try await chat.request(LoginRequest(action: .login, login: "alice", session: session, resume: false), on: try await page.openChannel())
            #expect(reply.online == chat.topology.onlineQueue(login: "alice"))
            let online = try #require(reply.online)
            let first = try await page.openChannel().consume(queue: online, noAck: true)
            try await eventually("alice online, bob (never signed in) not") {
                do {
                    return try await router.online(["alice", "bob"]) == ["alice"]
                } catch {
                    Issue.record("asking who is online: \(error)")
                    return false
                }
            }

            // The page's connection goes (a reload unloads it): no consumer, not online.
            try await page.close()
            try await eventually("alice offline once her only tab is gone") {
                (try? await router.online(["alice"])) == []
            }

            // The reloaded page logs in again with the same session and subscribes again.
            let again = try await chat.connectAsBrowser()
            let resumed = try await chat.request(LoginRequest(action: .login, login: "alice", session: session, resume: true), on: try await again.openChannel())
            #expect(resumed.ok && resumed.online == online)
            let second = try await again.openChannel().consume(queue: online, noAck: true)
            try await eventually("alice online again after the reload") {
                (try? await router.online(["alice"])) == ["alice"]
            }

            // Nothing is ever kept in the online queue.
            let probe = try await chat.connection.openChannel()
            try await probe.publish(body: ByteBuffer(string: "{}"), routingKey: online, properties: BasicProperties())
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await probe.queueDeclare(online, passive: true).messageCount == 0)
            withExtendedLifetime((first, second)) {}
            try await again.close()
        }
    }
}

extension ChatHarness {
    /// A connection of its own, as a browser tab's socket: closing it drops its consumers.
    fileprivate func connectAsBrowser() async throws -> AMQPConnection {
        var amqp = self.amqp
        amqp.connectionName = "test browser tab"
        return try await AMQPConnection.connect(configuration: amqp, logger: self.logger)
    }
}
