import AMQPClient
import Foundation
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatRecoveryTests {
    /// The roles reach the broker through a proxy that then drops every connection (what a broker
    /// restart looks like to them): they reconnect, re-declare, and the chat goes on.
    @Test func rolesComeBackAfterTheirConnectionsDrop() async throws {
        try await ChatHarness.with { chat in
            let proxy = try await StallingProxy.start(forwardingTo: chat.amqp.host, port: chat.amqp.port)
            var viaProxy = chat.amqp
            viaProxy.host = "127.0.0.1"
            viaProxy.port = proxy.port
            let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(50), maxDelay: .milliseconds(200))
            let roles: [any WarrenRole] = [chat.login(), chat.reverser(), chat.powWorker()]
            let group = ServiceGroup(
                services: roles.map { RoleService(role: $0, amqp: viaProxy, logger: chat.logger, policy: policy) },
                logger: chat.logger
            )
            let running = Task { try await group.run() }
            do {
                let alice = try await chat.tab("alice")
                let before = try await alice.post("before")
                try await alice.events.first("the reply before") { $0.kind == .reply && $0.text == "erofeb" }
                _ = before

                await proxy.closeAll()
                let bob = try await chat.tab("bob")
                try await bob.post("after !pow")
                try await bob.post("again")
                try await bob.events.first("the proof after", within: 15) { $0.kind == .proof && $0.text == "after" }
                try await bob.events.first("the reply after", within: 15) { $0.kind == .reply && $0.text == "niaga" }
            } catch {
                await group.triggerGracefulShutdown()
                _ = try? await running.value
                await proxy.shutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await running.value
            await proxy.shutdown()
        }
    }
}
