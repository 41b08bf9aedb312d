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
            // The router's broker link may still be connecting ("no connection to the broker right
            // now"): asked again until the bound, and its last error named if that runs out.
            var lastError: (any Error)?
            do {
                try await eventually("alice online, bob (never signed in) not") {
                    do {
                        return try await router.online(["alice", "bob"]) == ["alice"]
                    } catch {
                        lastError = error
                        return false
                    }
                }
            } catch {
                Issue.record("asking who is online, the last error: \(lastError.map { "\($0)" } ?? "none")")
                throw error
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

extension ChatPresenceTests {
    /// A tab closed without a logout: the broker drops its consumer on the online queue at once,
    /// its event exchange says so, and the login service tells every tab "alice went offline";
    /// a reload brings "alice came online". Prints how long each took (a figure, not an assert:
    /// before, pages noticed at their next members request, up to 60 s later).
    @Test func aClosedTabGoesOfflineInOtherTabsWithinAFewSeconds() async throws {
        try await ChatHarness.with(timeout: 90) { chat in
            try await chat.start(chat.login())
            let bob = try await chat.tab("bob")
            chat.people.withLockedValue { _ = $0.insert("alice") }
            let session = ChatHarness.randomSession()
            let page = try await chat.connectAsBrowser()
            let reply = try await chat.request(LoginRequest(action: .login, login: "alice", session: session, resume: false), on: try await page.openChannel())
            let online = try #require(reply.online)
            let consumer = try await page.openChannel().consume(queue: online, noAck: true)
            try await bob.events.first("alice came online, in bob's tab") { $0.kind == .online && $0.text == "alice came online" }

            let closed = ContinuousClock.now
            try await page.close()
            let offline = try await bob.events.first("alice went offline, in bob's tab") { $0.kind == .online && $0.text == "alice went offline" }
            let wentAfter = ContinuousClock.now - closed
            #expect(offline.from == "alice")

            // A reload: the same session, a new connection, a consumer again.
            let again = try await chat.connectAsBrowser()
            let reopened = ContinuousClock.now
            let resumed = try await chat.request(LoginRequest(action: .login, login: "alice", session: session, resume: true), on: try await again.openChannel())
            #expect(resumed.ok)
            let second = try await again.openChannel().consume(queue: online, noAck: true)
            try await bob.events.wait("alice online again after the reload") { events in
                events.last { $0.kind == .online && $0.from == "alice" }?.text == "alice came online"
            }
            let cameAfter = ContinuousClock.now - reopened
            print("online events: a closed tab went offline in another tab after \(wentAfter), came online after a reload in \(cameAfter)")

            // A second tab of hers closing leaves her online: no offline event for it.
            let other = try await chat.connectAsBrowser()
            let third = try await other.openChannel().consume(queue: online, noAck: true)
            try await Task.sleep(for: .milliseconds(300))
            let before = bob.events.all.count { $0.kind == .online && $0.text == "alice went offline" }
            try await other.close()
            try await Task.sleep(for: .seconds(1))
            #expect(bob.events.all.count { $0.kind == .online && $0.text == "alice went offline" } == before, "she still has a tab")
            withExtendedLifetime((consumer, second, third)) {}
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
