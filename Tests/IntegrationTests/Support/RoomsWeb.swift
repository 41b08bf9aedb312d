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

/// The web role's rooms API on the harness's broker and a real store: its broker link (REST
/// posts, `RoomRouter`, history client) runs as a role of the harness, and the app answers
/// through Hummingbird's test client (`.router`), or on a real port (`.live`) for programs.
enum RoomsWeb {
    /// A store (SQLite, or `backend`), a harness with the login service on it (and the history
    /// role, with `history`), and the rooms API on both.
    static func chat(
        history: Bool, backend: HistoryBackend = .sqlite, setup: TestingSetup = .router,
        _ body: @escaping @Sendable (Store, ChatHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await backend.withEmptyStore { url in
            let store = try await Store.open(url: url, logger: HistoryBackend.logger)
            do {
                try await ChatHarness.with(timeout: 120) { chat in
                    try await chat.start(chat.login(rooms: store.rooms))
                    if history { try await chat.startHistory(store: store.events) }
                    try await with(chat, store: store, setup: setup) { http in try await body(store, chat, http) }
                }
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }

    static func with(
        _ chat: ChatHarness, store: Store, setup: TestingSetup = .router,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let accounts = AuthWebRole.Keys(store: store.accounts).accounts()
        let posts = APIPostPublisher(configuration: chat.configuration, timeout: .seconds(10), logger: chat.logger)
        let router = RoomRouter(configuration: chat.configuration, logger: chat.logger)
        let history = HistoryRPCClient(configuration: chat.configuration, timeout: .seconds(10), logger: chat.logger)
        try await chat.start(RoleGroup(name: "web", roles: [posts, router, history]))
        // The router takes calls once its role runs on the connection: until then a join would
        // be answered 503.
        chat.people.withLockedValue { _ = $0.insert("web-ready") }
        let probe = RoomEvent(id: EventIDGenerator().nextString(), kind: .rooms, from: "warren", text: "ready?", at: Date())
        try await eventually("the web role's broker link") { (try? await router.notify("web-ready", probe)) != nil }
        let deps = RoomRoutes.Dependencies(accounts: accounts, store: store, routing: router, history: history, posts: posts)
        let web = WebConfiguration(webRoot: FileManager.default.temporaryDirectory.path, prefix: chat.topology.prefix)
        let app = buildApplication(
            configuration: web, brokerReachable: { true }, accounts: accounts, history: history, posts: posts, rooms: deps, logger: chat.logger
        )
        try await app.test(setup) { http in try await body(http) }
    }

    static func call(_ http: some TestClientProtocol, _ method: String, _ uri: String, _ object: [String: Any]? = nil, token: String) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if object != nil { headers[.contentType] = "application/json" }
        return try await http.execute(
            uri: uri, method: method == "GET" ? .get : .post, headers: headers,
            body: try object.map { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: $0)) }
        )
    }

    static func json(_ response: TestResponse) throws -> [String: Any] { try APIMessagesTests.json(response) }

    static func code(_ response: TestResponse) throws -> String? { try json(response)["code"] as? String }

    /// The room `id` in a `GET /api/rooms` answer's own rooms.
    static func room(_ id: String, in response: TestResponse) throws -> [String: Any]? {
        (try json(response)["rooms"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }

    /// Registers alice and bob; alice makes the private room `ops` and invites bob. Returns
    /// their access tokens.
    static func aliceAndBobInPrivateOps(_ http: some TestClientProtocol) async throws -> (alice: String, bob: String) {
        let alice = try await APIMessagesTests.register(http, "alice")
        let bob = try await APIMessagesTests.register(http, "bob")
        #expect(try await call(http, "POST", "/api/rooms", ["name": "ops", "visibility": "private"], token: alice).status == .created)
        #expect(try await call(http, "POST", "/api/rooms/ops/invite", ["name": "bob"], token: alice).status == .ok)
        return (alice, bob)
    }

    /// Alice's private room `ops` with bob in it: their tokens, bob's open tab, a watcher of the
    /// room, and the id of a post of alice's that bob's tab has received.
    struct BobInOps {
        let alice: String
        let bob: String
        let bobTab: Tab
        let ops: EventLog
        let before: String
    }

    static func bobInOps(_ chat: ChatHarness, _ http: some TestClientProtocol) async throws -> BobInOps {
        let (alice, bob) = try await aliceAndBobInPrivateOps(http)
        let bobTab = try await chat.tab("bob")
        let ops = try await chat.roomWatcher(room: "ops")
        let before = try await say(http, "before", in: "ops", token: alice)
        try await bobTab.events.first("the post while bob is a member") { $0.id == before }
        return BobInOps(alice: alice, bob: bob, bobTab: bobTab, ops: ops, before: before)
    }

    /// Posts `text` to room `id` through the API; returns the event id.
    static func say(_ http: some TestClientProtocol, _ text: String, in id: String, token: String) async throws -> String {
        let said = try await call(http, "POST", "/api/rooms/\(id)/messages", ["text": text], token: token)
        #expect(said.status == .created, "\(String(buffer: said.body))")
        return try #require(try json(said)["id"] as? String)
    }
}
