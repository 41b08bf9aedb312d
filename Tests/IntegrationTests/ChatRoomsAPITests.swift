import AMQPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WarrenAuth
import WarrenCore
import WarrenServices
import WarrenStore
import WarrenWeb

/// The rooms API through the real broker and store: the web role changes memberships in the
/// store and the bindings on the broker, the login service routes and checks posts.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatRoomsAPITests {
    @Test func createInviteChatReadLeaveAndDirectMessages() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 120) { chat in
                try await chat.start(chat.login(rooms: store.rooms))
                try await chat.start(chat.reverser())
                try await chat.startHistory(store: store.events)
                try await RoomsWeb.with(chat, store: store) { http in
                    let alice = try await APIMessagesTests.register(http, "alice")
                    let bob = try await APIMessagesTests.register(http, "bob")
                    let carol = try await APIMessagesTests.register(http, "carol")
                    let bobTab = try await chat.tab("bob")
                    let carolTab = try await chat.tab("carol")
                    try await eventually("the web role's broker link") {
                        try await Self.call(http, "GET", "/api/rooms", token: alice).status == .ok
                    }

                    let made = try await Self.call(http, "POST", "/api/rooms", ["name": "Ops", "visibility": "private"], token: alice)
                    #expect(made.status == .created, "\(String(buffer: made.body))")
                    let taken = try await Self.call(http, "POST", "/api/rooms", ["name": "OPS"], token: bob)
                    #expect(taken.status == .conflict)
                    #expect(try Self.code(taken) == Refusal.Code.roomNameTaken.rawValue)

                    // Private: carol can neither join nor read it; it is "not found" to her.
                    #expect(try await Self.call(http, "POST", "/api/rooms/ops/join", token: carol).status == .notFound)
                    #expect(try await Self.call(http, "GET", "/api/rooms/ops/history", token: carol).status == .notFound)
                    let intrude = try await Self.call(http, "POST", "/api/rooms/ops/messages", ["text": "hi"], token: carol)
                    #expect(intrude.status == .notFound)

                    #expect(try await Self.call(http, "POST", "/api/rooms/ops/invite", ["name": "bob"], token: alice).status == .ok)
                    try await bobTab.events.first("bob's invitation notice") { $0.kind == .rooms && $0.room == "ops" }
                    let said = try await Self.call(http, "POST", "/api/rooms/ops/messages", ["text": "welcome @bob"], token: alice)
                    #expect(said.status == .created, "\(String(buffer: said.body))")
                    let id = try #require(try Self.json(said)["id"] as? String)
                    try await bobTab.events.first("alice's post in ops") { $0.id == id && $0.room == "ops" }

                    // Unread in ops for bob, with the mention; after he reads it, none, and his tabs hear.
                    try await eventually("the post to be stored") {
                        try await store.events.latest(limit: 5, rooms: ["ops"]).contains { $0.id == id }
                    }
                    let before = try Self.room("ops", in: try await Self.call(http, "GET", "/api/rooms", token: bob))
                    #expect(before?["unread"] as? Int == 1)
                    #expect(before?["mentioned"] as? Bool == true)
                    #expect(try await Self.call(http, "POST", "/api/rooms/ops/read", ["id": id], token: bob).status == .ok)
                    try await bobTab.events.first("the read notice") { $0.kind == .rooms && $0.inReplyTo == id }
                    let after = try Self.room("ops", in: try await Self.call(http, "GET", "/api/rooms", token: bob))
                    #expect(after?["unread"] as? Int == 0)
                    let history = try await Self.call(http, "GET", "/api/rooms/ops/history", token: bob)
                    #expect(history.status == .ok)
                    #expect((try Self.json(history)["events"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == true)

                    // Bob leaves: one unbind, and the next post does not reach him.
                    #expect(try await Self.call(http, "POST", "/api/rooms/ops/leave", token: bob).status == .ok)
                    #expect(try await Self.call(http, "POST", "/api/rooms/general/leave", token: bob).status == .forbidden)
                    let later = try await Self.call(http, "POST", "/api/rooms/ops/messages", ["text": "bob has gone"], token: alice)
                    let laterID = try #require(try Self.json(later)["id"] as? String)

                    // A direct message by name: carol's tab hears of it and gets what alice says there.
                    let dm = try await Self.call(http, "POST", "/api/dm", ["name": "carol"], token: alice)
                    #expect(dm.status == .ok)
                    let dmID = try #require((try Self.json(dm)["room"] as? [String: Any])?["id"] as? String)
                    #expect(dmID == "dm.5.alice.carol")
                    try await carolTab.events.first("carol's notice of the direct message") { $0.kind == .rooms && $0.room == dmID }
                    let whisper = try await Self.call(http, "POST", "/api/rooms/\(dmID)/messages", ["text": "just us"], token: alice)
                    let whisperID = try #require(try Self.json(whisper)["id"] as? String)
                    try await carolTab.events.first("the direct message") { $0.id == whisperID }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(!bobTab.events.all.contains { $0.id == laterID || $0.id == whisperID })
                    #expect(!carolTab.events.all.contains { $0.room == "ops" })
                    let members = try await Self.call(http, "GET", "/api/rooms/ops/members", token: alice)
                    #expect(try Self.json(members)["members"] as? [String] == ["alice"])
                }
            }
        }
    }

    static func call(_ http: some TestClientProtocol, _ method: String, _ uri: String, _ object: [String: Any]? = nil, token: String) async throws -> TestResponse {
        try await RoomsWeb.call(http, method, uri, object, token: token)
    }

    static func json(_ response: TestResponse) throws -> [String: Any] { try RoomsWeb.json(response) }

    static func code(_ response: TestResponse) throws -> String? { try RoomsWeb.code(response) }

    static func room(_ id: String, in response: TestResponse) throws -> [String: Any]? { try RoomsWeb.room(id, in: response) }
}
