import AMQPClient
import Foundation
import ProofOfWork
import Testing
import WarrenCore
import WarrenServices

/// Every role in-process on a real broker, with tabs played over AMQP as a browser would.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatFlowTests {
    @Test func twoTabsGetPostsAndTheReversersReply() async throws {
        try await ChatHarness.with { chat in
            try await chat.startChat()
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            #expect(alice.queue == chat.topology.userQueue(login: "alice", session: alice.session))
            #expect(bob.queue == chat.topology.userQueue(login: "bob", session: bob.session))
            try await alice.events.first("bob joined") { $0.kind == .presence && $0.text == "bob joined" }

            let clientId = try await alice.post("héllo 👋🏽")
            for tab in [alice, bob] {
                let message = try await tab.events.first("the post") { $0.kind == .message && $0.clientId == clientId }
                #expect(message.from == "alice")
                #expect(message.text == "héllo 👋🏽")
                let reply = try await tab.events.first("the reply") { $0.kind == .reply && $0.inReplyTo == message.id }
                #expect(reply.from == "reverser")
                #expect(reply.text == "👋🏽 olléh")
            }
        }
    }

    @Test func aPostSentAgainIsTheSameEvent() async throws {
        try await ChatHarness.with { chat in
            try await chat.startChat()
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            // The page sends a post again after a reconnect when it did not see it come back;
            // the broker redelivers one whose ack was lost. Either way: the same event.
            let clientId = try await alice.post("once, whatever happens")
            _ = try await alice.post("once, whatever happens", clientId: clientId)
            let other = try await alice.post("another text, same client id", clientId: clientId)
            #expect(other == clientId)
            try await bob.events.wait("both texts", until: { events in
                Set(events.filter { $0.clientId == clientId }.map(\.text)).count == 2
                    && events.filter { $0.clientId == clientId }.count >= 3
            })
            let copies = bob.events.all.filter { $0.clientId == clientId && $0.text == "once, whatever happens" }
            #expect(copies.count == 2, "both sends are delivered")
            #expect(Set(copies.map(\.id)).count == 1, "under one event id: \(copies.map(\.id))")
            #expect(copies.first?.at == copies.last?.at)
            let changed = bob.events.all.filter { $0.clientId == clientId && $0.text != "once, whatever happens" }
            #expect(changed.count == 1 && changed.first?.id != copies.first?.id, "another text is another post")
        }
    }

    @Test(arguments: [("!pow", ProofVia.queue), ("!rpc", ProofVia.rpc)])
    func provenPostsReachTheRoomOnceWithAValidProof(suffix: String, via: ProofVia) async throws {
        try await ChatHarness.with { chat in
            try await chat.startChat()
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            let clientId = try await alice.post("prove this \(suffix)")
            for tab in [alice, bob] {
                let event = try await tab.events.first("the proven post") { $0.clientId == clientId }
                try expectVerifiedProof(event, via: via, author: "alice", text: "prove this")
            }
            // Nothing else for that post: no plain message before, no second proof after.
            try await Task.sleep(for: .milliseconds(300))
            for tab in [alice, bob] {
                #expect(tab.events.all.filter { $0.clientId == clientId }.count == 1)
                #expect(!tab.events.all.contains { $0.kind == .reply })
            }
        }
    }

    @Test func rpcWithoutAWorkerTimesOutToAnErrorForTheSenderOnly() async throws {
        try await ChatHarness.with(environment: ["WARREN_RPC_TIMEOUT_MS": "300"]) { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            let clientId = try await alice.post("nobody proves this !rpc")
            let error = try await alice.events.first("the error") { $0.kind == .error && $0.inReplyTo == clientId }
            #expect(error.code == "pow.failed")
            try await Task.sleep(for: .milliseconds(200))
            #expect(!bob.events.all.contains { $0.kind == .error || $0.clientId == clientId })
        }
    }

    @Test func refusedPostsGetAnErrorOrAreDeadLettered() async throws {
        try await ChatHarness.with { chat in
            try await chat.startChat()
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            let watcher = try await chat.roomWatcher()

            let tooLong = try await alice.post(String(repeating: "x", count: Limits.textMaxCharacters + 1))
            let error = try await alice.events.first("the error") { $0.kind == .error && $0.inReplyTo == tooLong }
            #expect(error.code == Refusal.Code.textTooLong.rawValue)
            #expect(error.clientId == tooLong)

            // No queue for this session: nobody to tell, so it is dead-lettered.
            try await alice.post("hi", session: ChatHarness.randomSession())
            try await chat.publishRaw("{not json", to: chat.topology.inbox)
            try await chat.publishRaw("{\"action\":\"dance\"}", to: chat.topology.login)
            let deadline = ContinuousClock.now + .seconds(10)
            while try await chat.messageCount(chat.topology.dead) ?? 0 < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await chat.messageCount(chat.topology.dead) == 3)

            try await Task.sleep(for: .milliseconds(200))
            // Presence may arrive late on a busy machine (bob's join); no refused post may arrive.
            let posts = watcher.all.filter { $0.kind != .presence }
            #expect(posts.isEmpty, "the room got \(posts)")
            #expect(!bob.events.all.contains { $0.kind == .error })
            #expect(alice.events.all.filter { $0.kind == .error }.count == 1)
            #expect(try await chat.messageCount(chat.topology.inbox) == 0)
        }
    }

    @Test func reloadDoesNotAnnounceTwiceAndLogoutDeletesTheQueue() async throws {
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            let watcher = try await chat.roomWatcher()
            let alice = try await chat.tab("alice")
            try await watcher.first("alice joined") { $0.kind == .presence && $0.text == "alice joined" }
            // A reload: the same session logs in again and finds its queue.
            let again = try await chat.tab("alice", session: alice.session)
            #expect(again.queue == alice.queue)
            let reply = try await alice.logout()
            #expect(reply.ok)
            try await watcher.first("alice left") { $0.kind == .presence && $0.text == "alice left" }
            #expect(try await chat.messageCount(alice.queue) == nil)
            #expect(watcher.all.filter { $0.text == "alice joined" }.count == 1)
        }
    }

    @Test func aPostAfterLogoutIsRefusedThoughTheSessionWasRemembered() async throws {
        // The login service trusts a tab queue it declared for WARREN_SESSION_MEMORY_MS (30 s by
        // default) without asking the broker; its own logout must forget the queue at once.
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            let watcher = try await chat.roomWatcher()
            let alice = try await chat.tab("alice")
            let before = try await alice.post("before")
            try await watcher.first("the post before the logout") { $0.clientId == before }
            #expect(try await alice.logout().ok)
            let after = try await alice.post("after")
            let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(10))
            while try await chat.messageCount(chat.topology.dead) ?? 0 < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await chat.messageCount(chat.topology.dead) == 1, "the post after the logout is dead-lettered")
            #expect(!watcher.all.contains { $0.clientId == after })
        }
    }
}

