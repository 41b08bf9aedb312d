import Foundation
import HummingbirdTesting
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// Memberships changed through the rooms API, seen from the tabs: the web role changes the store
/// and the one binding per person, the login service routes. Real broker, real store.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatRoomsMembershipTests {
    @Test func joiningAndLeavingReachEveryOpenTabAtOnce() async throws {
        try await RoomsWeb.chat(history: false) { store, chat, http in
            let alice = try await APIMessagesTests.register(http, "alice")
            let bob = try await APIMessagesTests.register(http, "bob")
            let bobTabs = [try await chat.tab("bob"), try await chat.tab("bob")]
            let lobby = try await chat.roomWatcher(room: "lobby")
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms", ["name": "lobby"], token: alice).status == .created)
            let early = try await RoomsWeb.say(http, "before bob", in: "lobby", token: alice)
            try await lobby.first("the post before bob joined") { $0.id == early }

            // Joining is one binding: both open tabs get the room from then on, once each.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/lobby/join", token: bob).status == .ok)
            for tab in bobTabs {
                try await tab.events.first("the join notice in each tab") { $0.kind == .rooms && $0.room == "lobby" }
            }
            let joined = try await RoomsWeb.say(http, "bob is here", in: "lobby", token: alice)
            for tab in bobTabs { try await tab.events.first("the post in each tab") { $0.id == joined } }

            // Leaving is one unbind: neither tab gets the room any more.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/lobby/leave", token: bob).status == .ok)
            for tab in bobTabs {
                try await tab.events.first("the leave notice in each tab") { $0.kind == .rooms && $0.room == "lobby" && $0.text.hasPrefix("You left") }
            }
            let gone = try await RoomsWeb.say(http, "bob has left", in: "lobby", token: alice)
            try await lobby.first("the post after bob left") { $0.id == gone }
            try await Task.sleep(for: .milliseconds(300))
            for tab in bobTabs {
                #expect(!tab.events.all.contains { $0.id == early || $0.id == gone }, "\(tab.events.all)")
                #expect(tab.events.all.filter { $0.id == joined }.count == 1)
            }
        }
    }

    @Test func unreadCountsAgreeEverywhereAfterReadingInOneTab() async throws {
        try await RoomsWeb.chat(history: true) { store, chat, http in
            let (alice, bob) = try await RoomsWeb.aliceAndBobInPrivateOps(http)
            let bobTabs = [try await chat.tab("bob"), try await chat.tab("bob")]
            let first = try await RoomsWeb.say(http, "one for @bob", in: "ops", token: alice)
            let second = try await RoomsWeb.say(http, "two", in: "ops", token: alice)
            try await eventually("both posts stored") {
                let stored = try await store.events.latest(limit: 10, rooms: ["ops"]).map(\.id)
                return stored.contains(first) && stored.contains(second)
            }
            func unread(_ token: String) async throws -> (count: Int?, mentioned: Bool?, readUpTo: String?) {
                let ops = try RoomsWeb.room("ops", in: try await RoomsWeb.call(http, "GET", "/api/rooms", token: token))
                return (ops?["unread"] as? Int, ops?["mentioned"] as? Bool, ops?["readUpTo"] as? String)
            }
            let before = try await unread(bob)
            #expect(before.count == 2)
            #expect(before.mentioned == true)
            #expect(try await unread(alice).count == 0, "one's own posts are not unread")

            // The first tab reads the first post: every tab of bob hears, and the count
            // the server gives (to any tab, any device) follows.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/read", ["id": first], token: bob).status == .ok)
            for tab in bobTabs { try await tab.events.first("the read notice") { $0.kind == .rooms && $0.inReplyTo == first } }
            let middle = try await unread(bob)
            #expect(middle.count == 1)
            #expect(middle.mentioned == false)
            #expect(middle.readUpTo == first)

            // The other tab reads the second; a read position never moves back.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/read", ["id": second], token: bob).status == .ok)
            for tab in bobTabs { try await tab.events.first("the second read notice") { $0.kind == .rooms && $0.inReplyTo == second } }
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/read", ["id": first], token: bob).status == .ok)
            let after = try await unread(bob)
            #expect(after.count == 0)
            #expect(after.readUpTo == second)
        }
    }

    @Test func aMemberWhoLeavesAPrivateRoomStopsReceivingAtOnceAndCannotReadItsHistory() async throws {
        try await RoomsWeb.chat(history: true) { store, chat, http in
            let room = try await RoomsWeb.bobInOps(chat, http)
            let (alice, bob, bobTab, ops, before) = (room.alice, room.bob, room.bobTab, room.ops, room.before)
            try await eventually("the post stored") { try await store.events.latest(limit: 5, rooms: ["ops"]).contains { $0.id == before } }
            let read = try await RoomsWeb.call(http, "GET", "/api/rooms/ops/history", token: bob)
            #expect((try RoomsWeb.json(read)["events"] as? [[String: Any]])?.contains { $0["id"] as? String == before } == true)

            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/leave", token: bob).status == .ok)
            let after = try await RoomsWeb.say(http, "after", in: "ops", token: alice)
            try await ops.first("the post after bob left") { $0.id == after }

            // Its history, members and posting are closed to him; the room is "not found".
            for (method, path) in [("GET", "history"), ("GET", "members"), ("POST", "messages"), ("POST", "join")] {
                let answer = try await RoomsWeb.call(http, method, "/api/rooms/ops/\(path)", method == "POST" ? ["text": "hello?"] : nil, token: bob)
                #expect(answer.status == .notFound, "\(path): \(answer.status)")
                #expect(try RoomsWeb.code(answer) == Refusal.Code.roomNotFound.rawValue, "\(path)")
            }
            let rooms = try RoomsWeb.json(try await RoomsWeb.call(http, "GET", "/api/rooms", token: bob))
            let listed = ((rooms["rooms"] as? [[String: Any]]) ?? []) + ((rooms["publicRooms"] as? [[String: Any]]) ?? [])
            #expect(!listed.contains { $0["id"] as? String == "ops" })
            let refused = try await bobTab.post("still here?", room: "ops")
            try await bobTab.events.first("the refusal of his post") { $0.inReplyTo == refused && $0.code == Refusal.Code.roomNotMember.rawValue }

            // A new tab's backfill holds his rooms only: general, not ops.
            let hello = try await bobTab.post("hello general")
            try await bobTab.events.first("his post in general") { $0.clientId == hello }
            let newTab = try await chat.tab("bob")
            try await newTab.events.first("the new tab's backfill") { $0.clientId == hello }
            try await Task.sleep(for: .milliseconds(300))
            #expect(!bobTab.events.all.contains { $0.id == after })
            #expect(!newTab.events.all.contains { $0.room == "ops" && $0.kind != .rooms }, "\(newTab.events.all)")
        }
    }

    @Test func aMemberRemovedByTheRoomsCreatorStopsReceivingAtOnceAndCannotReadItsHistory() async throws {
        try await RoomsWeb.chat(history: true) { store, chat, http in
            let room = try await RoomsWeb.bobInOps(chat, http)
            let (alice, bob, bobTab, ops) = (room.alice, room.bob, room.bobTab, room.ops)

            // Only the creator removes others; nobody is removed from general; yourself, you leave.
            let notCreator = try await RoomsWeb.call(http, "POST", "/api/rooms/ops/remove", ["name": "alice"], token: bob)
            #expect(notCreator.status == .forbidden)
            #expect(try RoomsWeb.code(notCreator) == Refusal.Code.roomNotCreator.rawValue)
            let general = try await RoomsWeb.call(http, "POST", "/api/rooms/general/remove", ["name": "bob"], token: alice)
            #expect(try RoomsWeb.code(general) == Refusal.Code.roomCannotLeave.rawValue)
            let herself = try await RoomsWeb.call(http, "POST", "/api/rooms/ops/remove", ["name": "alice"], token: alice)
            #expect(herself.status == .badRequest)
            let nobody = try await RoomsWeb.call(http, "POST", "/api/rooms/ops/remove", ["name": "carol"], token: alice)
            #expect(nobody.status == .notFound)
            #expect(try RoomsWeb.code(nobody) == Refusal.Code.roomNotMember.rawValue)

            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/remove", ["name": "bob"], token: alice).status == .ok)
            try await bobTab.events.first("the notice to bob") { $0.kind == .rooms && $0.room == "ops" && $0.text.contains("removed you") }
            let after = try await RoomsWeb.say(http, "after", in: "ops", token: alice)
            try await ops.first("the post after bob was removed") { $0.id == after }
            for (method, path) in [("GET", "history"), ("POST", "messages")] {
                let answer = try await RoomsWeb.call(http, method, "/api/rooms/ops/\(path)", method == "POST" ? ["text": "hello?"] : nil, token: bob)
                #expect(answer.status == .notFound, "\(path): \(answer.status)")
            }
            #expect(!(try await store.rooms.isMember(room: "ops", member: "bob")))
            try await Task.sleep(for: .milliseconds(300))
            #expect(!bobTab.events.all.contains { $0.id == after })
        }
    }

    @Test func theLimitsOnRoomsPerPersonAndMembersPerPrivateRoomAreRefusedClearly() async throws {
        try await RoomsWeb.chat(history: false) { store, chat, http in
            let alice = try await APIMessagesTests.register(http, "alice")
            let bob = try await APIMessagesTests.register(http, "bob")
            let carol = try await APIMessagesTests.register(http, "carol")
            func refusal(_ answer: TestResponse, _ code: Refusal.Code, _ what: String) throws {
                #expect(answer.status == .forbidden, "\(what): \(answer.status)")
                let body = try RoomsWeb.json(answer)
                #expect(body["code"] as? String == code.rawValue, "\(what)")
                let limit = code == .roomTooManyRooms ? SharedRules.roomsPerPersonMax : SharedRules.membersPerPrivateRoomMax
                #expect((body["error"] as? String)?.contains("\(limit)") == true, "\(what): the refusal says the limit: \(body)")
            }

            // Alice belongs to the most rooms allowed (general and the rest, made in the store).
            for index in 1..<SharedRules.roomsPerPersonMax {
                try await store.rooms.createRoom(try ChatRoom.named("a\(index)", visibility: .public, by: "alice", at: Date()))
            }
            try refusal(try await RoomsWeb.call(http, "POST", "/api/rooms", ["name": "one-too-many"], token: alice), .roomTooManyRooms, "create")
            #expect(try await store.rooms.room(id: "one-too-many") == nil, "a refused room is not made")
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms", ["name": "open"], token: bob).status == .created)
            try refusal(try await RoomsWeb.call(http, "POST", "/api/rooms/open/join", token: alice), .roomTooManyRooms, "join")
            let invited = try await RoomsWeb.call(http, "POST", "/api/rooms/open/invite", ["name": "alice"], token: bob)
            try refusal(invited, .roomTooManyRooms, "invite")
            #expect((try RoomsWeb.json(invited)["error"] as? String)?.contains("alice") == true, "the refusal names who is full")
            try refusal(try await RoomsWeb.call(http, "POST", "/api/dm", ["name": "alice"], token: carol), .roomTooManyRooms, "direct message")
            #expect(try await !store.rooms.isMember(room: "open", member: "alice"))

            // Bob's private room has the most members allowed: carol cannot be invited.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms", ["name": "full", "visibility": "private"], token: bob).status == .created)
            let full = try #require(try await store.rooms.room(id: "full"))
            for index in 2...SharedRules.membersPerPrivateRoomMax {
                try await store.rooms.addMember("m\(index)", to: full, at: Date())
            }
            let crowded = try await RoomsWeb.call(http, "POST", "/api/rooms/full/invite", ["name": "carol"], token: bob)
            try refusal(crowded, .roomTooManyMembers, "invite to a full room")
            #expect(try await !store.rooms.isMember(room: "full", member: "carol"))
            #expect(try await RoomsWeb.call(http, "GET", "/api/rooms/full/history", token: carol).status == .notFound)
        }
    }
}
