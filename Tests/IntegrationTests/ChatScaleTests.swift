import AMQPClient
import Foundation
import NIOConcurrencyHelpers
import Testing
import WarrenCore
import WarrenServices

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatScaleTests {
    @Test func twoLoginServicesAndTwoWorkersDeliverEachEventOncePerTab() async throws {
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            try await chat.start(chat.powWorker())
            try await chat.start(chat.powWorker())
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            var plain: [String] = []
            var proven: [String] = []
            for index in 0..<10 { plain.append(try await alice.post("post \(index)")) }
            for index in 0..<3 { proven.append(try await bob.post("pow \(index) !pow")) }
            for index in 0..<3 { proven.append(try await bob.post("rpc \(index) !rpc")) }
            for tab in [alice, bob] {
                try await tab.events.wait("every post, reply and proof", within: 15) { events in
                    events.filter { $0.kind == .reply }.count >= 10 && events.filter { $0.kind == .proof }.count >= 6
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            for tab in [alice, bob] {
                let events = tab.events.all
                for clientId in plain + proven {
                    #expect(events.filter { $0.clientId == clientId }.count == 1, "\(tab.login): \(clientId)")
                }
                let messageIDs = events.filter { $0.kind == .message }.map(\.id)
                for id in messageIDs {
                    #expect(events.filter { $0.inReplyTo == id }.count == 1)
                }
                #expect(Set(events.map(\.id)).count == events.count, "\(tab.login) got a duplicate")
            }
        }
    }

    @Test func aJobHeldByAKilledWorkerIsProvenByTheOther() async throws {
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            let held = NIOLockedValueBox(false)
            let doomed = try await chat.start(chat.powWorker { _ in
                held.withLockedValue { $0 = true }
                try await Task.sleep(for: .seconds(60))  // mid-job until killed
            })
            let alice = try await chat.tab("alice")
            let clientId = try await alice.post("survive !pow")
            let deadline = ContinuousClock.now + .seconds(10)
            while !held.withLockedValue({ $0 }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(held.withLockedValue { $0 })
            try await chat.start(chat.powWorker())
            try await doomed.close()
            let proof = try await alice.events.first("the proof from the other worker") { $0.clientId == clientId }
            #expect(proof.kind == .proof)
            try await Task.sleep(for: .milliseconds(200))
            #expect(alice.events.all.filter { $0.clientId == clientId }.count == 1)
        }
    }
}
