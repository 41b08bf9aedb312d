import AMQPClient
import Foundation
import ServiceLifecycle
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

    /// Accepted posts are acked in runs (one `multiple` ack per run of confirms) while refused
    /// and unreadable posts between them are settled by the loop; graceful shutdown handles what
    /// was delivered and sends the acks still waiting. Each post is settled once: none comes
    /// back to the inbox when the service's channels close, none is published twice.
    @Test func acceptedAndRefusedPostsBetweenThemAreEachSettledOnce() async throws {
        try await ChatHarness.with(timeout: 60) { chat in
            let login = RoleService(role: chat.login(), amqp: chat.amqp, logger: chat.logger)
            let group = ServiceGroup(services: [login], logger: chat.logger)
            let running = Task { try await group.run() }
            let alice = try await chat.tab("alice")
            var sent: [String] = []
            var refused: [String] = []
            var unreadable = 0
            for index in 0..<150 {
                sent.append(try await alice.post("mixed \(index)"))
                if index % 10 == 3 { refused.append(try await alice.post(String(repeating: "x", count: Limits.textMaxCharacters + 1))) }
                if index % 25 == 7 {
                    try await chat.publishRaw("{not json \(index)", to: chat.topology.inbox)
                    unreadable += 1
                }
            }
            try await alice.events.wait("every post and every refusal", within: 30) { events in
                events.filter { $0.kind == .message }.count >= sent.count && events.filter { $0.kind == .error }.count >= refused.count
            }
            await group.triggerGracefulShutdown()
            try await running.value

            let received = alice.events.all.filter { $0.kind == .message }.compactMap(\.clientId)
            #expect(received == sent, "the posts arrived out of order, or one twice")
            let errors = alice.events.all.filter { $0.kind == .error }.compactMap(\.inReplyTo)
            #expect(errors.sorted() == refused.sorted())
            try await eventually("the unreadable posts dead-lettered") {
                try await chat.messageCount(chat.topology.dead) ?? 0 >= UInt32(unreadable)
            }
            #expect(try await chat.messageCount(chat.topology.dead) == UInt32(unreadable))
            // The service stopped and its channels closed: a post left unacked would be back.
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
