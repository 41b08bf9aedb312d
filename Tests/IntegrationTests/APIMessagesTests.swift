import AMQPClient
import AMQPProtocol
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WarrenAuth
import WarrenCore
import WarrenServices
import WarrenWeb

/// `POST /api/messages` through the real broker: the web role's publisher, the login service and
/// the reverser, with a tab watching the room.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct APIMessagesTests {
    @Test func aBearerPostReachesTheRoomAsItsAuthorAndBadOnesReachNothing() async throws {
        try await ChatHarness.with(timeout: 90) { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            let bob = try await chat.tab("bob")
            try await AuthWebRole.withKeys { keys in
                let publisher = APIPostPublisher(configuration: chat.configuration, timeout: .seconds(10), logger: chat.logger)
                try await chat.start(RoleGroup(name: "web", roles: [publisher]))
                try await Self.withApp(chat, accounts: keys.accounts(), posts: publisher) { http in
                    let token = try await Self.register(http, "alice")
                    let first = try await Self.firstPost(http, text: "hello from curl", token: token)
                    #expect(first.status == .created)
                    let body = try Self.json(first)
                    let id = try #require(body["id"] as? String)
                    let clientId = try #require(body["clientId"] as? String)
                    #expect(body["from"] as? String == "alice")

                    let message = try await bob.events.first("alice's post in bob's tab") { $0.kind == .message && $0.from == "alice" }
                    #expect(message.id == id)
                    #expect(message.clientId == clientId)
                    #expect(message.text == "hello from curl")
                    let reply = try await bob.events.first("the reverser's reply") { $0.kind == .reply && $0.inReplyTo == id }
                    #expect(reply.text == "lruc morf olleh")

                    // Refused at the door: nothing reaches the broker.
                    #expect(try await Self.post(http, ["text": "forged"], token: "eyJhbGciOiJIUzI1NiJ9.e30.c2ln").status == .unauthorized)
                    #expect(try await Self.post(http, ["text": "no token"], token: nil).status == .unauthorized)
                    let empty = try await Self.post(http, ["text": "   "], token: token)
                    #expect(empty.status == .badRequest)
                    #expect(try Self.json(empty)["code"] as? String == "text.empty")
                    let long = try await Self.post(http, ["text": String(repeating: "x", count: Limits.textMaxCharacters + 1)], token: token)
                    #expect(long.status == .badRequest)
                    #expect(try Self.json(long)["code"] as? String == "text.tooLong")

                    // Without broker auth, the header alone does not make a post trusted: one sent
                    // by another broker account is dead-lettered, not admitted without a tab.
                    let deadBefore = try await chat.messageCount(chat.topology.dead) ?? 0
                    try await Self.publishForged(chat, as: "bob", session: bob.session, text: "forged by a browser")
                    try await Self.waitForDeadLetters(chat, deadBefore + 1)

                    let last = try await Self.post(http, ["text": "after the refusals"], token: token)
                    #expect(last.status == .created)
                    let lastID = try #require(try Self.json(last)["id"] as? String)
                    try await bob.events.wait("the last post") { $0.contains { $0.id == lastID } }
                    let texts = bob.events.all.filter { $0.kind == .message }.map(\.text)
                    #expect(texts == ["hello from curl", "after the refusals"])
                }
            }
        }
    }

    @Test func withBrokerAuthOnAForgedOnBehalfHeaderFromAnotherAccountIsRefused() async throws {
        try await ChatHarness.with(environment: ["WARREN_BROKER_AUTH": "on"], timeout: 90) { chat in
            try await chat.start(chat.login())
            let watcher = try await chat.roomWatcher()
            try await AuthWebRole.withKeys { keys in
                let publisher = APIPostPublisher(configuration: chat.configuration, timeout: .seconds(10), logger: chat.logger)
                try await chat.start(publisher)
                try await Self.withApp(chat, accounts: keys.accounts(), posts: publisher) { http in
                    let token = try await Self.register(http, "bob")
                    let deadBefore = try await chat.messageCount(chat.topology.dead) ?? 0
                    // Another internal account claims, with its broker-validated user id, to
                    // post on bob's behalf: with no tab, and with a well-formed session.
                    try await Self.publishForged(chat, as: "bob", session: APIPost.session, text: "forged, no tab")
                    try await Self.publishForged(chat, as: "bob", session: ChatHarness.randomSession(), text: "forged, a session")
                    try await Self.waitForDeadLetters(chat, deadBefore + 2)
                    // The login service handles the inbox in order: had a forged post been admitted,
                    // it would be in the room before this one.
                    let honest = try await Self.firstPost(http, text: "honest", token: token)
                    #expect(honest.status == .created)
                    let id = try #require(try Self.json(honest)["id"] as? String)
                    try await watcher.wait("the honest post") { $0.contains { $0.id == id } }
                    #expect(watcher.all.filter { $0.kind == .message }.map(\.text) == ["honest"])
                }
            }
        }
    }

    // MARK: Helpers

    static func withApp(
        _ chat: ChatHarness, accounts: AccountService, posts: APIPostPublisher, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let web = WebConfiguration(webRoot: FileManager.default.temporaryDirectory.path, prefix: chat.topology.prefix)
        let app = buildApplication(configuration: web, brokerReachable: { true }, accounts: accounts, posts: posts, logger: chat.logger)
        try await app.test(.router) { http in try await body(http) }
    }

    static func register(_ http: some TestClientProtocol, _ name: String) async throws -> String {
        let response = try await http.execute(
            uri: "/api/register", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"name": "\#(name)", "password": "correct horse"}"#)
        )
        #expect(response.status == .created)
        return try #require(try json(response)["accessToken"] as? String)
    }

    static func post(_ http: some TestClientProtocol, _ object: [String: Any], token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await http.execute(
            uri: "/api/messages", method: .post, headers: headers, body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
        )
    }

    /// The first post, sent again while the publisher is still connecting (503), for up to 10 s.
    static func firstPost(_ http: some TestClientProtocol, text: String, token: String) async throws -> TestResponse {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let response = try await post(http, ["text": text], token: token)
            if response.status != .serviceUnavailable || ContinuousClock.now >= deadline { return response }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    /// Publishes a post naming `login` with the on-behalf header, as the administrator's account:
    /// an internal account that is not the services' (its user id, which the broker checks, set as
    /// a browser's would be).
    static func publishForged(_ chat: ChatHarness, as login: String, session: String, text: String) async throws {
        var components = URLComponents(url: BrokerEnvironment.amqpURL, resolvingAgainstBaseURL: false)!
        components.user = BrokerEnvironment.adminLogin
        components.password = BrokerEnvironment.adminPassword
        let connection = try await AMQPConnection.connect(configuration: try AMQPConfiguration(url: components.string!))
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        var properties = BasicProperties(contentType: "application/json", deliveryMode: 2)
        properties.userID = BrokerEnvironment.adminLogin
        properties.headers = [PostAuthor.onBehalfHeader: .string(login)]
        let post = InboxPost(text: text, clientId: UUID().uuidString, login: login, session: session)
        try await channel.publish(body: ByteBuffer(bytes: post.encode()), routingKey: chat.topology.inbox, properties: properties)
        try await connection.close()
    }

    static func waitForDeadLetters(_ chat: ChatHarness, _ count: UInt32) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await chat.messageCount(chat.topology.dead) ?? 0 < count {
            guard ContinuousClock.now < deadline else { throw TestFailure("the forged posts were not dead-lettered within 10 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
