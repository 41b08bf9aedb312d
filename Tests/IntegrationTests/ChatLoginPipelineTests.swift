import AMQPClient
import Foundation
import Testing
import WarrenCore
import WarrenServices

/// The login service publishes posts one after another and acks each once its publish is
/// confirmed, without waiting for one confirm before the next post: order and delivery hold.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatLoginPipelineTests {
    @Test func postsFromOneTabReachTheRoomInTheOrderSent() async throws {
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            var sent: [String] = []
            for index in 0..<200 { sent.append(try await alice.post("in order \(index)")) }
            for tab in [alice, bob] {
                try await tab.events.wait("all 200 posts", within: 20) { events in
                    events.filter { $0.kind == .message }.count >= sent.count
                }
                let received = tab.events.all.filter { $0.kind == .message }.compactMap(\.clientId)
                #expect(received == sent, "\(tab.login) got the posts out of order or more than once")
            }
            #expect(try await chat.messageCount(chat.topology.inbox) == 0)
        }
    }

    @Test func aLoginServiceKilledMidStreamLosesNoPost() async throws {
        try await ChatHarness.with(timeout: 60) { chat in
            let doomed = try await chat.start(chat.login())
            let alice = try await chat.tab("alice")
            let posting = Task {
                var sent: [String] = []
                for index in 0..<400 { sent.append(try await alice.post("survive \(index)")) }
                return sent
            }
            try await alice.events.wait("some posts before the kill", within: 20) { events in
                events.filter { $0.kind == .message }.count >= 20
            }
            try await doomed.close()
            try await chat.start(chat.login())
            let expected = Set(try await posting.value)
            try await alice.events.wait("every post after the restart", within: 40) { events in
                expected.isSubset(of: Set(events.compactMap(\.clientId)))
            }
            // Redelivered posts may arrive twice (at least once), but none is lost and the
            // inbox is left empty: every post was acked, and only after its publish.
            let deadline = ContinuousClock.now + .seconds(10)
            while try await chat.messageCount(chat.topology.inbox) != 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await chat.messageCount(chat.topology.inbox) == 0)
            #expect(try await chat.messageCount(chat.topology.dead) == 0)
        }
    }
}
