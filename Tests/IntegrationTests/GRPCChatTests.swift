import AMQPClient
import CoreMetrics
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOConcurrencyHelpers
import Testing
import WarrenAuth
import WarrenCore
import WarrenGRPC
import WarrenOps
import WarrenServices
import WarrenStore
import WarrenWeb

/// `warren.v1.Chat` over real gRPC on loopback, against the real broker: the web role's broker
/// link, the login service and the history role in-process, accounts in SQLite.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct GRPCChatTests {
    @Test func postHistoryAndSearchAsTheTokensPersonAndBadCallsGetTheirStatus() async throws {
        try await GRPCChat.with { chat in
            let alice = try await chat.token("alice")
            let posted = try await chat.client.post(.with { $0.text = "hello over grpc"; $0.clientID = "bot-1" }, metadata: alice)
            #expect(!posted.id.isEmpty)
            #expect(posted.from == "alice")
            #expect(posted.clientID == "bot-1")
            #expect(!posted.queued)

            // Unauthenticated: no token, a forged one.
            await GRPCChat.expect(.unauthenticated, prefix: "token.missing") { _ = try await chat.client.post(.with { $0.text = "x" }) }
            await GRPCChat.expect(.unauthenticated, prefix: "token.invalid") {
                _ = try await chat.client.post(.with { $0.text = "x" }, metadata: ["authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
            }
            // The chat's rules: INVALID_ARGUMENT with the refusal code.
            await GRPCChat.expect(.invalidArgument, prefix: "text.tooLong") {
                _ = try await chat.client.post(.with { $0.text = String(repeating: "x", count: Limits.textMaxCharacters + 1) }, metadata: alice)
            }
            await GRPCChat.expect(.invalidArgument, prefix: "text.empty") { _ = try await chat.client.post(.with { $0.text = "  " }, metadata: alice) }
            // A room she does not belong to: the login service refuses it.
            await GRPCChat.expect(.permissionDenied, prefix: "room.notMember") {
                _ = try await chat.client.post(.with { $0.text = "psst"; $0.room = "secret" }, metadata: alice)
            }
            await GRPCChat.expect(.permissionDenied, prefix: "room.notMember") {
                _ = try await chat.client.history(.with { $0.room = "secret" }, metadata: alice)
            }
            await GRPCChat.expect(.invalidArgument, prefix: "history.limitInvalid") {
                _ = try await chat.client.history(.with { $0.limit = 100_000 }, metadata: alice)
            }

            try await eventually("the post in history") {
                try await chat.client.history(.with { $0.room = "general" }, metadata: alice).events.contains { $0.id == posted.id }
            }
            let history = try await chat.client.history(.init(), metadata: alice)
            let event = try #require(history.events.first { $0.id == posted.id })
            #expect(event.kind == "message" && event.from == "alice" && event.text == "hello over grpc" && event.clientID == "bot-1")
            #expect(event.room == "general")
            let found = try await chat.client.search(.with { $0.query = "grpc"; $0.room = "general" }, metadata: alice)
            #expect(found.events.map(\.id) == [posted.id])
            #expect(try await chat.client.search(.with { $0.query = "nothing like it" }, metadata: alice).events.isEmpty)

            // A deadline already gone: DEADLINE_EXCEEDED.
            var hurried = CallOptions.defaults
            hurried.timeout = .nanoseconds(1)
            await GRPCChat.expect(.deadlineExceeded, prefix: "") { _ = try await chat.client.history(.init(), metadata: alice, options: hurried) }
        }
    }

    @Test func everyCallIsTimedByMethodAndStatus() async throws {
        let factory = WarrenMetricsFactory()
        try await withMetricsFactory(factory) {
            try await GRPCChat.with { chat in
                let alice = try await chat.token("alice")
                #expect(MetricsReading(factory).value("warren_grpc_duration_seconds_count") == 0)
                _ = try await chat.client.post(.with { $0.text = "timed over grpc" }, metadata: alice)
                await GRPCChat.expect(.unauthenticated, prefix: "token.missing") { _ = try await chat.client.post(.with { $0.text = "x" }) }
                await GRPCChat.expect(.invalidArgument, prefix: "history.limitInvalid") {
                    _ = try await chat.client.history(.with { $0.limit = 100_000 }, metadata: alice)
                }
                let reading = MetricsReading(factory)
                #expect(reading.value("warren_grpc_duration_seconds_count", ["method": "warren.v1.Chat/Post", "code": "ok"]) == 1)
                #expect(reading.value("warren_grpc_duration_seconds_count", ["method": "warren.v1.Chat/Post", "code": "unauthenticated"]) == 1)
                #expect(reading.value("warren_grpc_duration_seconds_count", ["method": "warren.v1.Chat/History", "code": "invalidArgument"]) == 1)
                #expect(reading.value("warren_grpc_duration_seconds_sum", ["method": "warren.v1.Chat/Post"]) > 0)
            }
        }
    }

    @Test func withoutABrokerLinkPostsAndSubscriptionsAreUnavailable() async throws {
        try await withSQLiteStore { store in
            let accounts = AccountService(store: store.accounts, key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
            let token = try await accounts.register(name: "alice", password: "a long enough password").accessToken
            let service = ChatService(.init(accounts: accounts, rooms: store.rooms, posts: nil, history: nil, subscriber: nil))
            try await GRPCChat.serving(service) { client in
                let alice: Metadata = ["authorization": "Bearer \(token)"]
                await GRPCChat.expect(.unavailable, prefix: "") { _ = try await client.post(.with { $0.text = "hello" }, metadata: alice) }
                await GRPCChat.expect(.unavailable, prefix: "history.unavailable") { _ = try await client.history(.init(), metadata: alice) }
                await GRPCChat.expect(.unavailable, prefix: "") {
                    try await client.subscribe(.with { $0.session = GRPCChat.session() }, metadata: alice) { response in
                        for try await _ in response.messages {}
                    }
                }
            }
        }
    }

    /// With general's stream on too: a gRPC subscription reads no stream, so its queue is bound
    /// to general itself (TopologyDeclarer.bindStreamedRooms).
    @Test(arguments: ["off", "on"])
    func aSubscriberThatReconnectsWithinTheExpiryMissesNothing(generalStream: String) async throws {
        try await GRPCChat.with(environment: ["WARREN_GENERAL_STREAM": generalStream]) { chat in
            let alice = try await chat.token("alice")
            let bob = try await chat.token("bob")
            await GRPCChat.expect(.invalidArgument, prefix: "session.tooShort") {
                try await chat.client.subscribe(.with { $0.session = "short" }, metadata: bob) { for try await _ in $0.messages {} }
            }
            let session = GRPCChat.session()
            let seen = NIOLockedValueBox<[Warren_V1_Event]>([])
            let first = try await chat.subscribe(bob, session: session, into: seen)
            let one = try await chat.client.post(.with { $0.text = "one" }, metadata: alice).id
            try await eventually("bob's first event") { seen.withLockedValue { $0.contains { $0.id == one } } }
            // Bob goes away; two posts come while he is gone.
            first.cancel()
            _ = await first.result
            let two = try await chat.client.post(.with { $0.text = "two" }, metadata: alice).id
            let three = try await chat.client.post(.with { $0.text = "three" }, metadata: alice).id
            let again = try await chat.subscribe(bob, session: session, into: seen)
            try await eventually("both posts made while bob was away") {
                let ids = seen.withLockedValue { $0.map(\.id) }
                return ids.contains(two) && ids.contains(three)
            }
            let texts = seen.withLockedValue { $0.filter { $0.kind == "message" }.map(\.text) }
            #expect(texts == ["one", "two", "three"])
            // Shutdown ends the stream cleanly (OK, no error).
            chat.server.stop()
            let ended = await again.result
            #expect((try? ended.get()) != nil, "the stream ended with \(ended)")
        }
    }
}

/// A web role's gRPC chat on a free loopback port, with what it needs on the test broker.
struct GRPCChat: Sendable {
    let harness: ChatHarness
    let accounts: AccountService
    let client: Warren_V1_Chat.Client<HTTP2ClientTransport.Posix>
    let server: GRPCServerService

    static func with(environment: [String: String] = [:], _ body: @escaping @Sendable (GRPCChat) async throws -> Void) async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(environment: environment, timeout: 90) { chat in
                try await chat.start(chat.login(rooms: store.rooms))
                try await chat.startHistory(store: store.events)
                let accounts = AccountService(store: store.accounts, key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
                let posts = APIPostPublisher(configuration: chat.configuration, timeout: .seconds(10), logger: chat.logger)
                let history = HistoryRPCClient(configuration: chat.configuration, logger: chat.logger)
                let subscriber = TabSubscriber(configuration: chat.configuration, logger: chat.logger)
                try await chat.start(RoleGroup(name: "web", roles: [posts, history, subscriber]))
                try await eventually("the web role's broker link") { (try? await history.ask(HistoryRequest(.latest, limit: 1))) != nil }
                let deps = ChatService.Dependencies(accounts: accounts, rooms: store.rooms, posts: posts, history: history, subscriber: subscriber)
                let server = try #require(ChatService.server(configuration: chat.configuration, deps: deps, port: 0, logger: chat.logger))
                try await Self.running(server) { client in
                    try await body(GRPCChat(harness: chat, accounts: accounts, client: client, server: server))
                }
            }
        }
    }

    /// Serves `service` alone on a free port while `body` runs.
    static func serving(_ service: ChatService, _ body: @Sendable (Warren_V1_Chat.Client<HTTP2ClientTransport.Posix>) async throws -> Void) async throws {
        let server = GRPCServerService(name: "chat", host: "127.0.0.1", port: 0, services: [service], logger: Logger(label: "warren.test.grpc"))
        try await Self.running(server, body)
    }

    static func running(
        _ server: GRPCServerService, _ body: @Sendable (Warren_V1_Chat.Client<HTTP2ClientTransport.Posix>) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { server.stop() }
            let port = try #require(try await server.listeningPort())
            try await GRPCClients.with(targets: [HostPort(host: "127.0.0.1", port: port)]) { clients in
                try await body(Warren_V1_Chat.Client(wrapping: clients.clients[0]))
            }
            server.stop()
            try await group.waitForAll()
        }
    }

    /// Registers `name` and returns their `authorization` metadata.
    func token(_ name: String) async throws -> Metadata {
        ["authorization": "Bearer \(try await self.accessToken(name))"]
    }

    /// Registers `name` and returns their access token.
    func accessToken(_ name: String) async throws -> String {
        let pair = try await self.accounts.register(name: name, password: "a long enough password")
        self.harness.people.withLockedValue { _ = $0.insert(name) }
        return pair.accessToken
    }

    /// Subscribes as `metadata`'s person with `session`, appending every event to `seen`, until
    /// the task is cancelled; returns once the subscription's queue exists.
    func subscribe(_ metadata: Metadata, session: String, into seen: NIOLockedValueBox<[Warren_V1_Event]>) async throws -> Task<Void, any Error> {
        let client = self.client
        let task = Task {
            try await client.subscribe(.with { $0.session = session }, metadata: metadata) { response in
                for try await event in response.messages { seen.withLockedValue { $0.append(event) } }
            }
        }
        try await eventually("the subscription's queue") {
            try await self.harness.consumerCount(self.queue(of: metadata, session: session)) ?? 0 >= 1
        }
        return task
    }

    /// The tab queue of `metadata`'s person for `session`.
    func queue(of metadata: Metadata, session: String) throws -> String {
        let header = metadata[stringValues: "authorization"].first { _ in true } ?? ""
        let name = try self.accounts.authorize(accessToken: String(header.dropFirst(7))).subject
        return self.harness.topology.userQueue(login: name, session: session)
    }

    static func session() -> String { ChatHarness.randomSession() }

    /// Expects `body` to fail with `code` and a message starting with `prefix`.
    static func expect(_ code: RPCError.Code, prefix: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix(prefix), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }
}

