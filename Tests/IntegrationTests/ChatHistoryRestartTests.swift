import AMQPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// The issue's "history survives a broker restart and a restart of every role", on a node of
/// the suite's own (``PrivateBroker``, on the WARREN_TEST_PRIVATE_* ports; it takes turns with
/// the other suites on those ports) and on each store (SQLite, and PostgreSQL when
/// WARREN_TEST_DATABASE_URL is set or under CI).
///
/// Every role runs as `warren up` runs it (a ``RoleService`` each, the history role on a real
/// store). Posts are made before the broker is stopped, while it is down (held by the browser
/// until it is back, as the page's outbox does) and after; then every role is stopped and new
/// ones are started on the same store. Each time, the store, the history request and a new tab's
/// backfill must hold every room event, each post and each reply once.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed")
)
struct ChatHistoryRestartTests {
    /// How long the roles get to come back (a bound, not a target).
    static let comeBack: Double = 60

    @Test(arguments: HistoryBackend.available)
    func historySurvivesABrokerRestartAndARestartOfEveryRole(_ backend: HistoryBackend) async throws {
        try await backend.withEmptyStore { storeURL in
            try await PrivateBroker.with { broker in
                let environment = [
                    "WARREN_AMQP_URL": try ChatBrokerRestartTests.amqpURL(of: broker),
                    // Small batches, so a restart falls between batches and inside one.
                    "WARREN_HISTORY_BATCH": "3",
                    // The cron role runs and is restarted but stays quiet: the room holds the
                    // test's events only, all of them within one backfill.
                    "WARREN_CRON_SCHEDULE": "0 0 1 1 *",
                ]
                try await ChatHarness.with(environment: environment, timeout: 420) { chat in
                    let recorder = LogRecorder()
                    var crew = try await RoleCrew.start(chat, storeURL: storeURL, recorder: recorder)
                    let room: Set<String>
                    do {
                        let scenario = HistoryRestartScenario(chat: chat, broker: broker)
                        room = try await scenario.run(restartRoles: {
                            try await crew.stop()
                            try await scenario.noRoleConsumes()
                            try await $0()
                            crew = try await RoleCrew.start(chat, storeURL: storeURL, recorder: recorder)
                        })
                    } catch {
                        try? await crew.stop()
                        throw TestFailure("\(error)\nrole log: \(recorder.lines.suffix(40).joined(separator: "\n"))")
                    }
                    try await crew.stop()
                    // With every role gone, the store itself, opened afresh, holds the room once.
                    let store = try await Store.open(url: storeURL, logger: HistoryBackend.logger)
                    let count = try await store.events.count()
                    let stored = try await store.events.latest(limit: Limits.historyLimitMax)
                    await store.close()
                    #expect(count == room.count, "\(count) events stored, the room carried \(room.count)")
                    #expect(Set(stored.map(\.id)) == room)
                }
            }
        }
    }
}

/// Every role of `warren up` but the web role, each a ``RoleService`` in one `ServiceGroup`, the
/// history role on a `Store` of the crew's own: stopping the crew is stopping every process.
final class RoleCrew: Sendable {
    let store: Store
    let group: ServiceGroup
    let running: Task<Void, any Error>

    private init(store: Store, group: ServiceGroup, running: Task<Void, any Error>) {
        self.store = store
        self.group = group
        self.running = running
    }

    /// Opens the store, starts every role and waits until each consumes its queues.
    static func start(_ chat: ChatHarness, storeURL: String, recorder: LogRecorder) async throws -> RoleCrew {
        let store = try await Store.open(url: storeURL, logger: HistoryBackend.logger)
        let roles: [any WarrenRole] = [
            chat.login(), chat.reverser(), chat.powWorker(), chat.cron(clock: SystemCronClock()), chat.history(store: store.events),
        ]
        let group = ServiceGroup(
            services: roles.map { RoleService(role: $0, amqp: chat.amqp, logger: recorder.logger(), policy: ChatBrokerRestartTests.policy) },
            logger: chat.logger
        )
        let crew = RoleCrew(store: store, group: group, running: Task { try await group.run() })
        let connection = try await AMQPConnection.connect(configuration: chat.amqp)
        defer { Task { try? await connection.close() } }
        do {
            try await eventually("every role to consume its queues", within: ChatHistoryRestartTests.comeBack) {
                for queue in HistoryRestartScenario.roleQueues(chat) {
                    if try await consumerCount(queue, on: connection) == 0 { return false }
                }
                return true
            }
        } catch {
            try? await crew.stop()
            throw error
        }
        return crew
    }

    /// Stops every role gracefully and closes the store.
    func stop() async throws {
        await self.group.triggerGracefulShutdown()
        let result = await self.running.result
        await self.store.close()
        try result.get()
    }
}

/// Consumers of `queue` seen on `connection` (0 when it does not exist).
func consumerCount(_ queue: String, on connection: AMQPConnection) async throws -> UInt32 {
    let channel = try await connection.openChannel()
    defer { Task { try? await channel.close() } }
    do {
        return try await channel.queueDeclare(queue, passive: true).consumerCount
    } catch let error as AMQPError where error.code == .notFound {
        return 0
    }
}

/// The chat of ``ChatHistoryRestartTests``: tabs played as browsers over AMQP.
struct HistoryRestartScenario {
    let chat: ChatHarness
    let broker: PrivateBroker
    let browser = NIOLockedValueBox<AMQPConnection?>(nil)

    /// Every queue a role consumes.
    static func roleQueues(_ chat: ChatHarness) -> [String] {
        TopologyDeclarer(configuration: chat.configuration).workQueues + [chat.topology.cron, chat.topology.history, chat.topology.historyRPC]
    }

    /// Runs the scenario; `restartRoles` stops every role, runs its argument (posts made while
    /// no role runs), and starts every role again. Returns the ids of every event the room carried.
    func run(restartRoles: (@Sendable () async throws -> Void) async throws -> Void) async throws -> Set<String> {
        let comeBack = ChatHistoryRestartTests.comeBack
        var posts: [String: String] = [:]  // clientId: text

        // Before the broker restart.
        let alice = try await self.chat.tab("alice")
        let bob = try await self.chat.tab("bob")
        for index in 0..<3 {
            let text = "before \(index)"
            posts[try await alice.post(text)] = text
        }
        // The inbox confirmed it, and the broker goes at once.
        posts[try await bob.post("pending")] = "pending"
        try await self.broker.stop()
        // While it is down the page holds its posts (its outbox) and sends them once back.
        let outbox = (0..<3).map { "during \($0)" }
        try await self.broker.start()

        // The browser reconnects by hand and subscribes its tabs' queues again.
        let browser = try await AMQPConnection.connect(configuration: self.chat.amqp)
        self.browser.withLockedValue { $0 = browser }
        defer { Task { try? await browser.close() } }
        let channel = try await browser.openChannel()
        try await channel.confirmSelect()
        for tab in [alice, bob] {
            try await tab.events.consume(tab.queue, on: channel, acknowledging: true)
        }
        let alice2 = Tab(harness: self.chat, login: "alice", session: alice.session, queue: alice.queue, channel: channel, events: alice.events)
        let bob2 = Tab(harness: self.chat, login: "bob", session: bob.session, queue: bob.queue, channel: channel, events: bob.events)
        for text in outbox { posts[try await alice2.post(text)] = text }
        for index in 0..<3 {
            let text = "after \(index)"
            posts[try await bob2.post(text)] = text
        }
        try await self.waitForPostsAndReplies(posts, in: alice.events, within: comeBack)

        // A new tab after the broker restart: its backfill holds the room so far.
        try await self.expectBackfill("carol", posts, room: alice.events, on: channel, "after the broker restart")
        try await self.expectStored(alice.events, posts, "after the broker restart")

        // Every role stopped and started again on the same store; posts sent meanwhile wait in
        // the inbox.
        let postsWhileDown = NIOLockedValueBox<[String: String]>([:])
        try await restartRoles {
            for index in 0..<2 {
                let text = "roles down \(index)"
                let clientId = try await alice2.post(text)
                postsWhileDown.withLockedValue { $0[clientId] = text }
            }
        }
        posts.merge(postsWhileDown.withLockedValue { $0 }) { $1 }
        try await self.waitForPostsAndReplies(posts, in: alice.events, within: comeBack)

        try await self.expectBackfill("dave", posts, room: alice.events, on: channel, "after every role restarted")
        try await self.expectStored(alice.events, posts, "after every role restarted")
        return Set(alice.events.all.map(\.id))
    }

    /// Logs a new tab in on `channel` (the browser's connection) and checks that its backfill,
    /// which the login service publishes before announcing the tab, is the room so far: exactly
    /// the events `room` (a tab that saw everything) holds once the announcement reached both.
    func expectBackfill(_ login: String, _ posts: [String: String], room: EventLog, on channel: AMQPChannel, _ when: String) async throws {
        let comeBack = ChatHistoryRestartTests.comeBack
        // The login service skips the backfill while no history role answers (by design: a
        // login never waits for history); the role recovers by itself, so wait until it does.
        let connection = try #require(self.browser.withLockedValue { $0 })
        try await eventually("the history role to answer again", within: comeBack) {
            let client = try await AMQPRPCClient.make(connection: connection)
            defer { Task { try? await client.close() } }
            let request = HistoryRequest(.latest, limit: 1)
            guard let delivery = try? await client.call(body: ByteBuffer(bytes: request.encode()), routingKey: self.chat.topology.historyRPC, timeout: .seconds(3))
            else { return false }
            return (try? HistoryReply.decode(delivery.body.readableBytesView))?.ok == true
        }
        let session = ChatHarness.randomSession()
        let reply = try await bounded("\(login)'s login reply", within: comeBack) {
            try await self.chat.request(LoginRequest(action: .login, login: login, session: session), on: channel)
        }
        #expect(reply.ok, "login refused: \(reply.error ?? "")")
        let events = try await EventLog.consuming(try #require(reply.queue), on: channel)
        for (log, whose) in [(events, login), (room, "the room")] {
            try await log.first("\(login) joined, in \(whose)'s tab", within: comeBack) { $0.text == "\(login) joined" }
        }
        try self.expectEveryPostOnce(posts, in: events.all, "\(login)'s backfill \(when)")
        #expect(Set(events.all.map(\.id)) == Set(room.all.map(\.id)), "\(login)'s backfill \(when) is not the room so far")
    }

    /// Waits until `log` holds every post and a reply to each.
    func waitForPostsAndReplies(_ posts: [String: String], in log: EventLog, within seconds: Double) async throws {
        try await log.wait("\(posts.count) posts and their replies", within: seconds) { events in
            let messages = events.filter { $0.kind == .message && posts[$0.clientId ?? ""] != nil }
            let replied = Set(events.filter { $0.kind == .reply }.compactMap(\.inReplyTo))
            return Set(messages.compactMap(\.clientId)).count == posts.count && messages.allSatisfy { replied.contains($0.id) }
        }
    }

    /// Each post once (one event per clientId, whatever its id), and one reply to it.
    func expectEveryPostOnce(_ posts: [String: String], in events: [RoomEvent], _ where: String) throws {
        let unique = Dictionary(events.map { ($0.id, $0) }) { first, _ in first }.values
        for (clientId, text) in posts {
            let messages = unique.filter { $0.kind == .message && $0.clientId == clientId }
            #expect(messages.count == 1, "\(messages.count) events for the post \"\(text)\" in \(`where`)")
            guard let message = messages.first else { continue }
            #expect(message.text == text)
            let replies = unique.filter { $0.kind == .reply && $0.inReplyTo == message.id }
            #expect(replies.count == 1, "\(replies.count) replies to \"\(text)\" in \(`where`)")
            #expect(replies.first?.text == String(text.reversed()))
        }
    }

    /// The history request (what the web role's history page asks; its barrier answers once the
    /// writer stored what came before) holds exactly the events the room carried (alice's tab
    /// saw them all), each post and reply once, oldest first.
    func expectStored(_ room: EventLog, _ posts: [String: String], _ when: String) async throws {
        let expected = Set(room.all.map(\.id))
        let connection = try #require(self.browser.withLockedValue { $0 })
        // The history request's barrier: answered once the writer has stored what came before.
        let client = try await AMQPRPCClient.make(connection: connection)
        defer { Task { try? await client.close() } }
        let request = HistoryRequest(.latest, limit: Limits.historyLimitMax)
        let delivery = try await client.call(body: ByteBuffer(bytes: request.encode()), routingKey: self.chat.topology.historyRPC, timeout: .seconds(20))
        let stored = try #require(HistoryReply.decode(delivery.body.readableBytesView).events, "history refused the request")
        #expect(Set(stored.map(\.id)) == expected, "the store \(when): \(stored.count) events, the room carried \(expected.count)")
        #expect(stored.map(\.id) == expected.sorted(), "the history request \(when) is not the room once, oldest first")
        try self.expectEveryPostOnce(posts, in: stored, "the store \(when)")
    }

    /// Waits until no role consumes any of its queues: the roles are gone, not just idle.
    func noRoleConsumes() async throws {
        let connection = try #require(self.browser.withLockedValue { $0 })
        try await eventually("every role to stop consuming", within: ChatHistoryRestartTests.comeBack) {
            for queue in Self.roleQueues(self.chat) {
                if try await consumerCount(queue, on: connection) > 0 { return false }
            }
            return true
        }
    }
}
