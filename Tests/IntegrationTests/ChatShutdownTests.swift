import AMQPClient
import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatShutdownTests {
    /// Graceful shutdown (what SIGTERM does): the job in hand is finished and acknowledged, no new
    /// job is taken, and the service returns.
    @Test func gracefulShutdownFinishesTheJobInHandAndTakesNoMore() async throws {
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            let held = NIOLockedValueBox(false)
            let worker = PowWorkerRole(configuration: chat.configuration, logger: chat.logger, solver: .init(workers: 1)) { _ in
                held.withLockedValue { $0 = true }
                try await Task.sleep(for: .milliseconds(500))
            }
            let group = ServiceGroup(services: [RoleService(role: worker, amqp: chat.amqp, logger: chat.logger)], logger: chat.logger)
            let running = Task { try await group.run() }
            let alice = try await chat.tab("alice")
            let first = try await alice.post("in hand !pow")
            let deadline = ContinuousClock.now + .seconds(10)
            while !held.withLockedValue({ $0 }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            await group.triggerGracefulShutdown()
            try await running.value
            let proof = try await alice.events.first("the proof of the job in hand") { $0.clientId == first }
            #expect(proof.kind == .proof)

            // Stopped: a new job waits in the queue for another worker.
            let second = try await alice.post("later !pow")
            let waitUntil = ContinuousClock.now + .seconds(5)
            while try await chat.messageCount(chat.topology.powJobs) != 1, ContinuousClock.now < waitUntil {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await chat.messageCount(chat.topology.powJobs) == 1)
            #expect(!alice.events.all.contains { $0.clientId == second })
        }
    }
}
