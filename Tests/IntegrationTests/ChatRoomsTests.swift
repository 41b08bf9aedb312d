import AMQPClient
import Foundation
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// Rooms routed by the broker: the login service binds each person's exchange to their rooms
/// (from the store), so a tab gets exactly its person's rooms. Real broker, real store.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatRoomsTests {
    static let at = Date()

    /// Makes the private room `ops` of alice and bob, and the direct message of alice and carol.
    static func rooms(_ store: Store) async throws -> (ops: ChatRoom, dm: ChatRoom) {
        let ops = try ChatRoom.named("ops", visibility: .private, by: "alice", at: at)
        try await store.rooms.createRoom(ops)
        try await store.rooms.addMember("bob", to: ops, at: at)
        let dm = try await store.rooms.directRoom("alice", "carol", at: at)
        return (ops, dm)
    }

    @Test func aPrivateRoomReachesItsMembersOnlyAndRefusesOthersPosts() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let (ops, dm) = try await Self.rooms(store)
                try await chat.start(chat.login(rooms: store.rooms))
                try await chat.start(chat.reverser())
                let opsWatch = try await chat.roomWatcher(room: ops.id)
                let alice = try await chat.tab("alice")
                let bob = try await chat.tab("bob")
                let carol = try await chat.tab("carol")

                let said = try await alice.post("for ops only", room: ops.id)
                for tab in [alice, bob] {
                    let message = try await tab.events.first("the post in ops") { $0.clientId == said }
                    #expect(message.room == ops.id)
                    let reply = try await tab.events.first("the reply in ops") { $0.kind == .reply && $0.inReplyTo == message.id }
                    #expect(reply.room == ops.id)
                }
                // A direct message: alice and carol, not bob.
                let whisper = try await carol.post("just us", room: dm.id)
                try await alice.events.first("the direct message") { $0.clientId == whisper && $0.room == dm.id }
                // Carol is not in ops: her post is refused to her alone, and nothing reaches ops.
                let intruder = try await carol.post("let me in", room: ops.id)
                let refusal = try await carol.events.first("the refusal") { $0.kind == .error && $0.inReplyTo == intruder }
                #expect(refusal.code == Refusal.Code.roomNotMember.rawValue)
                #expect(refusal.room == ops.id)
                try await Task.sleep(for: .milliseconds(500))
                #expect(!carol.events.all.contains { $0.room == ops.id && $0.kind != .error }, "carol saw ops: \(carol.events.all)")
                #expect(!bob.events.all.contains { $0.room == dm.id }, "bob saw the direct message")
                #expect(!opsWatch.all.contains { $0.clientId == intruder || $0.from == "carol" })
                #expect(!alice.events.all.contains { $0.clientId == intruder })
            }
        }
    }

    @Test func bindingsAreRebuiltFromTheStoreAfterTheBrokerLostThem() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let (ops, _) = try await Self.rooms(store)
                let first = try await chat.start(chat.login(rooms: store.rooms))
                let alice = try await chat.tab("alice")
                let bob = try await chat.tab("bob")
                let before = try await bob.post("before the wipe", room: ops.id)
                try await alice.events.first("the post before") { $0.clientId == before }

                // The broker loses alice's routing (her exchange, with every binding to and from
                // it), as a broker that lost its state would; the login service reconnects (a
                // new run remembers nothing) and alice's tab logs in again.
                let channel = try await chat.connection.openChannel()
                try await channel.exchangeDelete(chat.topology.person("alice"))
                try await channel.close()
                try await first.close()
                try await chat.start(chat.login(rooms: store.rooms))
                let again = try await chat.tab("alice", session: alice.session)
                #expect(again.queue == alice.queue)

                // The queue has two consumers now (the tab's first subscription and this one),
                // so each post reaches one of them.
                let after = try await bob.post("after the wipe", room: ops.id)
                let general = try await bob.post("and general")
                try await eventually("both posts in alice's queue after the rebuild") {
                    let seen = alice.events.all + again.events.all
                    return seen.contains { $0.clientId == after } && seen.contains { $0.clientId == general }
                }
            }
        }
    }

    @Test func everyRouteIsRebuiltFromTheStoreWhenTheBrokerLostTheWholeTopology() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 60) { chat in
                let (ops, dm) = try await Self.rooms(store)
                let first = try await chat.start(chat.login(rooms: store.rooms))
                let before = try await chat.tab("alice")
                let said = try await before.post("before the wipe", room: ops.id)
                try await before.events.first("the post before") { $0.clientId == said }
                let sessions = ["alice": before.session, "bob": ChatHarness.randomSession(), "carol": ChatHarness.randomSession()]

                // The broker loses everything of this deployment's routing, as a broker whose
                // state is wiped does: the rooms exchange (and with it every membership binding),
                // every person's exchange, every tab queue. The login service reconnects (a new
                // run, which remembers nothing) and declares what it shares again.
                let channel = try await chat.connection.openChannel()
                try await channel.exchangeDelete(chat.topology.rooms)
                for person in sessions.keys { try await channel.exchangeDelete(chat.topology.person(person)) }
                _ = try await channel.queueDelete(before.queue)
                try await channel.close()
                try await first.close()
                try await chat.start(chat.login(rooms: store.rooms))

                // The tabs sign in again with their saved sessions, as after a reconnect: each
                // person's routing comes back from the store alone.
                let alice = try await chat.tab("alice", session: sessions["alice"]!)
                let bob = try await chat.tab("bob", session: sessions["bob"]!)
                let carol = try await chat.tab("carol", session: sessions["carol"]!)
                let inOps = try await bob.post("after the wipe", room: ops.id)
                let inDM = try await carol.post("just us, again", room: dm.id)
                let inGeneral = try await alice.post("and general")
                for (tab, expected) in [(alice, [inOps, inDM, inGeneral]), (bob, [inOps, inGeneral]), (carol, [inDM, inGeneral])] {
                    for clientId in expected {
                        try await tab.events.first("\(tab.login)'s rooms after the rebuild") { $0.clientId == clientId && $0.kind == .message }
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(!bob.events.all.contains { $0.clientId == inDM })
                #expect(!carol.events.all.contains { $0.clientId == inOps })
            }
        }
    }

    @Test func leavingUnbindsAtOnceForEveryTab() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let (ops, _) = try await Self.rooms(store)
                try await chat.start(chat.login(rooms: store.rooms))
                let bobOne = try await chat.tab("bob")
                let bobTwo = try await chat.tab("bob")
                let alice = try await chat.tab("alice")
                let first = try await alice.post("both tabs", room: ops.id)
                for tab in [bobOne, bobTwo] { try await tab.events.first("the post in each tab") { $0.clientId == first } }

                // Leaving: the store first, then one unbind, whatever number of tabs.
                try await store.rooms.removeMember("bob", from: ops.id)
                let channel = try await chat.connection.openChannel()
                try await TopologyDeclarer(configuration: chat.configuration).unbindMember("bob", room: ops.id, on: channel)
                try await channel.close()

                let second = try await alice.post("bob has gone", room: ops.id)
                try await alice.events.first("alice's own post") { $0.clientId == second }
                let refused = try await bobOne.post("still here?", room: ops.id)
                try await bobOne.events.first("bob's refusal") { $0.inReplyTo == refused && $0.code == Refusal.Code.roomNotMember.rawValue }
                try await Task.sleep(for: .milliseconds(300))
                for tab in [bobOne, bobTwo] { #expect(!tab.events.all.contains { $0.clientId == second }) }
            }
        }
    }

    @Test func typingReachesTheRoomOncePerIntervalAndIsNeverStored() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let (ops, _) = try await Self.rooms(store)
                try await chat.start(chat.login(rooms: store.rooms))
                try await chat.startHistory(store: store.events)
                let alice = try await chat.tab("alice")
                let bob = try await chat.tab("bob")
                try await alice.post("", room: ops.id, typing: true)
                try await alice.post("", room: ops.id, typing: true)  // too soon: dropped
                let typing = try await bob.events.first("alice is typing") { $0.kind == .typing }
                #expect(typing.from == "alice")
                #expect(typing.room == ops.id)
                let said = try await alice.post("done typing", room: ops.id)
                try await bob.events.first("the post") { $0.clientId == said }
                try await eventually("the post to be stored") {
                    try await store.events.latest(limit: 10, rooms: [ops.id]).contains { $0.clientId == said }
                }
                #expect(bob.events.all.filter { $0.kind == .typing }.count == 1)
                #expect(try await !store.events.latest(limit: 50).contains { $0.kind == .typing })
                #expect(try await chat.messageCount(chat.topology.dead) ?? 0 == 0)
            }
        }
    }
}
