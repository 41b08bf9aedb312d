import AMQPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import ProofOfWork
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices

/// The issue's "any role survives a broker restart without being restarted itself", on a node
/// of the suite's own (``PrivateBroker``) that is stopped or killed and started again while
/// every role runs as `warren up` runs it (a ``RoleService`` each, never restarted).
///
/// Tabs are played as browsers over AMQP; after the restart the "browser" reconnects by hand
/// and subscribes its tab queues again (they are durable and outlive the connection).
/// Serialized: one private node at a time on this suite's ports.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed")
)
struct ChatBrokerRestartTests {
    /// The node's ports: 100 above ``PrivateBroker``'s (5786, 15786, ... by default), which
    /// AMQPClientBrokerRestartTests uses and may use at the same time.
    static let ports = PrivateBroker.Ports.fromEnvironment(offset: 100)
    /// A quick backoff, so the test does not sit through the production one (up to 30 s).
    static let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1))
    /// How long the roles get to come back once the node is up again (a bound, not a target).
    static let comeBack: Double = 60
    static let roleNames = ["login", "reverser", "pow-worker", "cron"]

    @Test func everyRoleComesBackAfterTheBrokerIsStoppedAndStartedAgain() async throws {
        // A graceful stop: what was confirmed and acknowledged stays so, and no event is doubled.
        try await Self.chatAcrossARestart("stopped", exactlyOnceBeforeTheRestart: true) { broker in
            try await broker.stop()
            try await broker.start()
        }
    }

    @Test func everyRoleComesBackAfterTheBrokerIsKilledAndStartedAgain() async throws {
        // SIGKILL: confirmed messages survive (the broker confirms persistent messages once on
        // disk), but an acknowledgement made just before may not have reached the disk, so a
        // post handled just before the kill may be handled again after it: at least once.
        try await Self.chatAcrossARestart("killed", exactlyOnceBeforeTheRestart: false) { broker in
            try await broker.kill()
            try await broker.start()
        }
    }

    /// Runs every role on a private node, chats, restarts the node with `restart` and checks
    /// that the chat goes on without any role being restarted.
    static func chatAcrossARestart(
        _ how: String,
        exactlyOnceBeforeTheRestart: Bool,
        restart: @escaping @Sendable (PrivateBroker) async throws -> Void
    ) async throws {
        try await PrivateBroker.with(ports: Self.ports) { broker in
            let url = try Self.amqpURL(of: broker)
            try await ChatHarness.with(environment: ["WARREN_AMQP_URL": url], timeout: 400) { chat in
                let recorder = LogRecorder()
                let clock = ScaledCronClock(speed: 4)
                let roles: [any WarrenRole] = [chat.login(), chat.reverser(), chat.powWorker(), chat.cron(clock: clock)]
                let group = ServiceGroup(
                    services: roles.map { RoleService(role: $0, amqp: chat.amqp, logger: recorder.logger(), policy: Self.policy) },
                    logger: chat.logger
                )
                let running = Task { try await group.run() }
                do {
                    let scenario = Scenario(how: how, chat: chat, broker: broker, clock: clock, recorder: recorder)
                    try await scenario.run(exactlyOnceBeforeTheRestart: exactlyOnceBeforeTheRestart, restart: restart)
                } catch {
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    throw TestFailure("\(error)\nrole log: \(recorder.lines.suffix(40).joined(separator: "\n"))")
                }
                await group.triggerGracefulShutdown()
                try await running.value
            }
        }
    }

    /// The shared test broker's URL (user, password, vhost) with the private node's port.
    static func amqpURL(of broker: PrivateBroker) throws -> String {
        var components = try #require(URLComponents(url: BrokerEnvironment.amqpURL, resolvingAgainstBaseURL: false))
        components.host = "127.0.0.1"
        components.port = broker.ports.amqp
        return try #require(components.url).absoluteString
    }

    struct Scenario {
        let how: String
        let chat: ChatHarness
        let broker: PrivateBroker
        let clock: ScaledCronClock
        let recorder: LogRecorder

        func run(exactlyOnceBeforeTheRestart: Bool, restart: @Sendable (PrivateBroker) async throws -> Void) async throws {
            let comeBack = ChatBrokerRestartTests.comeBack
            // Before: two tabs, a post in both with the reverser's reply.
            let alice = try await self.chat.tab("alice")
            let bob = try await self.chat.tab("bob")
            try await alice.events.first("bob joined") { $0.kind == .presence && $0.text == "bob joined" }
            let before = try await alice.post("before")
            for tab in [alice, bob] {
                try await self.postAndReply(before, reversed: "erofeb", in: tab, within: 10)
            }

            // The inbox confirms a post, and the broker goes at once.
            let pending = try await bob.post("pending")
            try await restart(self.broker)
            let backAt = self.clock.now()

            // The browser reconnects by hand and subscribes its tabs' queues again.
            let browser = try await AMQPConnection.connect(configuration: self.chat.amqp)
            defer { Task { try? await browser.close() } }
            let channel = try await browser.openChannel()
            try await channel.confirmSelect()
            for tab in [alice, bob] {
                try await tab.events.consume(tab.queue, on: channel, acknowledging: true)
            }
            let alice2 = Tab(harness: chat, login: alice.login, session: alice.session, queue: alice.queue, channel: channel, events: alice.events)
            let bob2 = Tab(harness: chat, login: bob.login, session: bob.session, queue: bob.queue, channel: channel, events: bob.events)

            // Nothing confirmed before the restart is lost.
            for tab in [alice, bob] {
                try await self.postAndReply(pending, reversed: "gnidnep", in: tab, within: comeBack)
            }

            // The login service takes logins again: a new tab, announced to the others.
            let carol = LoginRequest(action: .login, login: "carol", session: ChatHarness.randomSession())
            let reply = try await bounded("carol's login reply (the login role's login consumer came back)", within: comeBack) {
                try await self.chat.request(carol, on: channel)
            }
            #expect(reply.ok, "login refused after the restart: \(reply.error ?? "")")
            for tab in [alice, bob] {
                try await tab.events.first("carol joined, in \(tab.login)'s tab", within: comeBack) {
                    $0.kind == .presence && $0.text == "carol joined"
                }
            }

            // Posts after the restart: admitted, replied to, proven.
            let after = try await alice2.post("after")
            let proven = try await bob2.post("proven after !pow")
            for tab in [alice2, bob2] {
                try await self.postAndReply(after, reversed: "retfa", in: tab, within: comeBack)
                let proof = try await tab.events.first("the proof of a !pow post after the restart, in \(tab.login)'s tab", within: comeBack) {
                    $0.clientId == proven
                }
                #expect(proof.kind == .proof)
                try Self.verify(proof, author: "bob", text: "proven after")
            }
            // The cron posts again: a tick due after the node came back.
            try await alice.events.first("a cron tick after the restart", within: comeBack) { $0.kind == .system && $0.at >= backAt }

            // Each role logged its reconnection.
            for role in ChatBrokerRestartTests.roleNames {
                #expect(self.recorder.reconnections(of: role) >= 1, "the \(role) role did not log a reconnection")
            }

            // Once each: let anything doubled arrive first.
            try await Task.sleep(for: .milliseconds(500))
            for tab in [alice, bob] {
                let events = tab.events.all
                let who = "in \(tab.login)'s tab"
                // After the restart nothing was redelivered: every arrival counts.
                #expect(events.filter { $0.clientId == after }.count == 1, "the post after the restart \(who)")
                #expect(events.filter { $0.kind == .reply && $0.text == "retfa" }.count == 1, "its reply \(who)")
                #expect(events.filter { $0.clientId == proven }.count == 1, "the proven post \(who)")
                #expect(events.filter { $0.text == "carol joined" }.count == 1, "carol's presence \(who)")
                // Before it, the same event may come twice (delivered, its ack cut off); the
                // browser drops an id it has seen, so distinct ids count.
                for (clientId, reversed) in [(before, "erofeb"), (pending, "gnidnep")] {
                    let posts = Set(events.filter { $0.clientId == clientId }.map(\.id)).count
                    let replies = Set(events.filter { $0.kind == .reply && $0.text == reversed }.map(\.id)).count
                    if exactlyOnceBeforeTheRestart {
                        #expect(posts == 1 && replies == 1, "\(reversed): \(posts) posts, \(replies) replies \(who)")
                    } else {
                        #expect(posts >= 1 && replies >= 1, "\(reversed): \(posts) posts, \(replies) replies \(who)")
                    }
                }
            }
        }

        /// Waits for the post `clientId` and then the reverser's reply to it in `tab`.
        func postAndReply(_ clientId: String, reversed: String, in tab: Tab, within seconds: Double) async throws {
            let message = try await tab.events.first("post \(clientId) in \(tab.login)'s tab (broker \(self.how))", within: seconds) {
                $0.kind == .message && $0.clientId == clientId
            }
            let reply = try await tab.events.first("the reply to post \(clientId) in \(tab.login)'s tab (broker \(self.how))", within: seconds) {
                $0.kind == .reply && $0.inReplyTo == message.id
            }
            #expect(reply.text == reversed)
        }

        static func verify(_ event: RoomEvent, author: String, text: String) throws {
            let proof = try #require(event.proof)
            let solverProof = ProofOfWork.Proof(
                bits: proof.bits, challenge: proof.challenge, nonce: try #require(UInt64(proof.nonce)), hash: proof.hash,
                hashesTried: 0, elapsed: .zero, hashesPerSecond: 0
            )
            #expect(event.from == author && event.text == text)
            #expect(solverProof.verify(id: event.id, author: author, text: text), "the proof does not verify")
        }
    }
}

/// Runs `body`, failing with a message naming `what` if it takes longer than `seconds`.
func bounded<T: Sendable>(_ what: String, within seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let result = NIOLockedValueBox<T?>(nil)
    do {
        try await withTimeout(seconds) {
            let value = try await body()
            result.withLockedValue { $0 = value }
        }
    } catch let failure as TestFailure {
        throw TestFailure("timed out waiting for \(what) (\(failure))")
    }
    return try #require(result.withLockedValue { $0 })
}

/// Log lines of the services, kept for the test to read.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        let role: String
        let message: String
        let metadata: Logger.Metadata
    }

    /// The most lines kept.
    static let limit = 2000
    private let box = NIOLockedValueBox<[Line]>([])

    /// A logger at info level that records here.
    func logger() -> Logger {
        Logger(label: "warren.test.restart") { _ in Handler(recorder: self) }
    }

    var lines: [String] {
        self.box.withLockedValue { $0 }.map { "\($0.role): \($0.message) \($0.metadata)" }
    }

    /// How many times `role` logged a reconnection.
    func reconnections(of role: String) -> Int {
        self.box.withLockedValue { lines in lines.filter { $0.role == role && $0.message == "reconnected" }.count }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let message = event.message
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let role = all["role"].map { "\($0)" } ?? "?"
            self.recorder.box.withLockedValue { lines in
                // Bounded: the oldest lines go first.
                if lines.count >= LogRecorder.limit { lines.removeFirst(lines.count - LogRecorder.limit + 1) }
                lines.append(Line(role: role, message: "\(message)", metadata: all))
            }
        }
    }
}
