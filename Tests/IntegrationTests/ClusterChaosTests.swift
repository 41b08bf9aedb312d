import AMQPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// The chaos drill, short version: every role (as `warren up` runs them, a ``RoleService``
/// each with the three nodes in WARREN_AMQP_URL) on a three-node cluster of the suite's own
/// (``TestCluster``), 200 tabs played over AMQP by four "browsers" (each a connection that moves
/// to the next node when its node goes, and logs its tabs in again when their queues go), and
/// posts at a steady 10 a second through the web role's broker link (`APIPostPublisher`, the
/// path of `POST /api/messages`). Meanwhile one node is killed (SIGKILL) and started again,
/// another stopped gracefully and started again, and the third cut off by a partition and
/// healed. Counted the way the Jepsen tests of quorum queues count, after healing and draining:
/// accepted posts missing from the history (lost: must be 0), posts delivered under two event ids
/// (duplicates after de-duplication by id), deliveries of an id a tab already had, the longest
/// gap a tab saw between two posts, and how long posting stalled at worst (time to recover).
/// Every tab must carry on: each has the last post at the end.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed"),
    // Out of the default run until it passes: it still loses accepted posts (docs/testing.md).
    .enabled(if: ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL"] == "1", "the chaos drill runs only with WARREN_TEST_CLUSTER_DRILL=1")
)
struct ClusterChaosTests {
    static let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1))
    static let tabs = 200
    static let browsers = 4
    static let postEvery: Duration = .milliseconds(100)
    /// How long each fault lasts before the node is back.
    static let outage: Duration = .seconds(5)

    @Test func everyAcceptedPostSurvivesNodeLossesAndEveryTabCarriesOn() async throws {
        try await TestCluster.with { cluster in
            let urls = try cluster.amqpURLs()
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("warren-chaos-\(UUID().uuidString).sqlite")
            defer { try? FileManager.default.removeItem(at: file) }
            try await ChatHarness.with(environment: ["WARREN_AMQP_URL": urls, "WARREN_CRON_SCHEDULE": "@every 5s"], timeout: 900) { chat in
                #expect(chat.configuration.queueType == .quorum, "several nodes make quorum queues the default")
                let store = try await Store.open(url: "sqlite:\(file.path)", logger: HistoryBackend.logger)
                let recorder = LogRecorder()
                let poster = APIPostPublisher(configuration: chat.configuration, logger: chat.logger)
                let roles: [any WarrenRole] = [
                    chat.login(), chat.reverser(), chat.powWorker(), chat.cron(clock: ScaledCronClock(speed: 1)), chat.history(store: store.events), poster,
                ]
                let group = ServiceGroup(
                    services: roles.map { RoleService(role: $0, amqp: chat.amqp, logger: recorder.logger(), policy: Self.policy) },
                    logger: chat.logger
                )
                let running = Task { try await group.run() }
                let browsers = (0..<Self.browsers).map { Browser(chat: chat, first: $0 * (Self.tabs / Self.browsers), count: Self.tabs / Self.browsers) }
                let browsing = browsers.map { browser in Task { await browser.run() } }
                do {
                    try await Self.drill(chat: chat, cluster: cluster, store: store, poster: poster, browsers: browsers)
                } catch {
                    for browser in browsers { await browser.stop() }
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    await store.close()
                    throw TestFailure("\(error)\nrole log: \(recorder.lines.suffix(40).joined(separator: "\n"))")
                }
                for browser in browsers { await browser.stop() }
                for task in browsing { await task.value }
                await group.triggerGracefulShutdown()
                try await running.value
                await store.close()
            }
        }
    }

    static func drill(chat: ChatHarness, cluster: TestCluster, store: Store, poster: APIPostPublisher, browsers: [Browser]) async throws {
        // The shared queues are quorum queues; tab queues stay classic.
        let types = try await cluster.ctl(1, ["list_queues", "-p", BrokerEnvironment.vhost, "name", "type"])
        #expect(types.contains("\(chat.topology.inbox)\tquorum"), "queue types: \(types)")
        #expect(types.contains("\(chat.topology.history)\tquorum"), "queue types: \(types)")

        let tabs = browsers.flatMap(\.tabs)
        try await eventually("every tab signed in", within: 120) { tabs.allSatisfy(\.signedIn) }
        let ledger = PostLedger()
        let posting = Task { await ledger.post(through: poster, every: Self.postEvery) }
        try await eventually("the first posts reach every tab", within: 60) { tabs.allSatisfy { $0.posts > 0 } }
        let started = ContinuousClock.now
        var faults: [String] = []
        func fault(_ what: String) { faults.append("\(what) at \(ContinuousClock.now - started)") }

        try await Task.sleep(for: .seconds(3))
        fault("kill -9 node 1")
        try await cluster.kill(1)
        try await Task.sleep(for: Self.outage)
        try await cluster.restart(1)
        fault("node 1 back")
        fault("graceful stop of node 2")
        try await cluster.stop(2)
        try await Task.sleep(for: Self.outage)
        try await cluster.restart(2)
        fault("node 2 back")
        fault("partition of node 3")
        try await cluster.partition(3)
        try await Task.sleep(for: Self.outage)
        try await cluster.heal()
        fault("healed")
        try await Task.sleep(for: .seconds(5))
        posting.cancel()
        await posting.value

        // Drain: every accepted post should reach the history, and every tab the last post. The
        // harness's own connection may have been on a node that went: count on any node.
        let counter = QueueCounter(amqp: chat.amqp)
        defer { Task { await counter.close() } }
        let accepted = ledger.accepted
        var stored: [RoomEvent] = []
        try? await eventually("the history holds every accepted post", within: 40) {
            guard try await counter.ready(chat.topology.history) == 0 else { return false }
            stored = try await store.events.latest(limit: 1_000_000)
            let clientIDs = Set(stored.compactMap(\.clientId))
            return accepted.keys.allSatisfy(clientIDs.contains)
        }
        let lastID = ledger.lastAdmittedID
        try? await eventually("every tab has the last post", within: 60) { tabs.allSatisfy { $0.has(lastID) } }

        let storedByClient = Dictionary(grouping: stored.filter { $0.kind == .message && $0.clientId != nil }, by: { $0.clientId! })
        let lost = accepted.keys.filter { storedByClient[$0] == nil }
        let storedTwice = storedByClient.values.filter { Set($0.map(\.id)).count > 1 }.count
        let tabDuplicates = tabs.map(\.postsUnderTwoIDs).reduce(0, +)
        let redeliveries = tabs.map(\.repeatedDeliveries).reduce(0, +)
        let longestGap = tabs.map(\.longestGap).max() ?? .zero
        let missingTabs = tabs.filter { !$0.has(lastID) }.count
        let deadLetters = try await counter.ready(chat.topology.dead) ?? 0
        // What became of each lost post: the login service's answer, and whether a tab had it.
        let whatBecame = lost.prefix(5).map { client in
            let id = accepted[client] ?? nil
            let seen = tabs.filter { $0.hasPost(client) }.count
            return "\(client): \(id.map { "admitted as \($0)" } ?? "queued, no answer"), \(seen) tabs had it"
        }
        // Where the lost posts could be: the shared queues' counts on a node of the majority.
        let queues = lost.isEmpty ? "" : ((try? await cluster.ctl(1, [
            "list_queues", "-p", BrokerEnvironment.vhost, "name", "type", "messages_ready", "messages_unacknowledged", "consumers",
        ])) ?? "").split(separator: "\n").filter { $0.hasPrefix(chat.configuration.prefix + ".") && !$0.contains(".user.") }.joined(separator: "\n")
        let report = """
            cluster drill: \(tabs.count) tabs, \(accepted.count) posts accepted (\(ledger.retries) retried after a failure, \
            \(ledger.refusals) refused), faults: \(faults.joined(separator: "; "))
            lost (accepted, not in history): \(lost.count); posts stored under two ids: \(storedTwice); \
            posts a tab got under two ids: \(tabDuplicates); events a tab got again (backfill after a re-login, redelivery; dropped by id): \(redeliveries)
            longest gap a tab saw between posts: \(longestGap); longest stall of posting (time to recover): \(ledger.longestStall); \
            tab re-logins: \(tabs.map(\.logins).reduce(0, +) - tabs.count); tabs without the last post: \(missingTabs); dead letters: \(deadLetters)
            \(whatBecame.joined(separator: "\n"))
            \(queues)
            """
        print(report)
        let artifacts = cluster.root.appendingPathComponent(".warren/artifacts")
        try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try? report.write(to: artifacts.appendingPathComponent("cluster-drill.txt"), atomically: true, encoding: .utf8)

        #expect(accepted.count > 100, "posting went on: \(report)")
        // The goal is 0, and nothing less passes. Runs so far missed 1 to 13 posts that the broker
        // had confirmed into the inbox and the login service never admitted: after the partition
        // they were still in the inbox, not taken (docs/testing.md).
        #expect(lost.isEmpty, "posts lost: \(lost.prefix(5)); \(report)")
        #expect(missingTabs == 0, "every tab carries on: \(report)")
    }
}

/// Counts the messages ready in a queue on any node of the cluster: keeps one connection, made
/// again (on the next node that answers) when it went.
actor QueueCounter {
    let connector: AMQPConnector
    private var connection: AMQPConnection?

    init(amqp: AMQPConfiguration) {
        self.connector = AMQPConnector(configuration: amqp)
    }

    /// Messages ready in `queue` (nil when it does not exist); each broker request is bounded.
    func ready(_ queue: String) async throws -> UInt32? {
        let connection: AMQPConnection
        if let current = self.connection, current.isActive {
            connection = current
        } else {
            self.connector.connectionLost()
            connection = try await withDeadline(.seconds(30), "a connection to any node") {
                try await self.connector.reconnect(policy: ClusterChaosTests.policy, waitFirst: false).connection
            }
            self.connection = connection
        }
        return try await withDeadline(.seconds(10), "a passive declare of \(queue)") {
            let channel = try await connection.openChannel()
            defer { Task { try? await channel.close() } }
            do {
                return try await channel.queueDeclare(queue, passive: true).messageCount
            } catch let error as AMQPError where error.code == .notFound {
                return nil
            }
        }
    }

    func close() async {
        try? await self.connection?.close()
        self.connection = nil
    }
}

/// What the poster was told: the posts accepted (by client id, with the event id when the
/// login service answered), how often a post had to be tried again, the longest stall.
final class PostLedger: Sendable {
    private struct State {
        var accepted: [String: String?] = [:]
        var lastAdmittedID = ""
        var retries = 0
        var refusals = 0
        var longestStall: Duration = .zero
    }

    private let state = NIOLockedValueBox(State())

    var accepted: [String: String?] { self.state.withLockedValue { $0.accepted } }
    var lastAdmittedID: String { self.state.withLockedValue { $0.lastAdmittedID } }
    var retries: Int { self.state.withLockedValue { $0.retries } }
    var refusals: Int { self.state.withLockedValue { $0.refusals } }
    var longestStall: Duration { self.state.withLockedValue { $0.longestStall } }

    /// Posts one message every `interval` until cancelled; a post the broker did not take is
    /// tried again (the same post, as an API client would) until it is.
    func post(through poster: APIPostPublisher, every interval: Duration) async {
        var number = 0
        var lastAccepted = ContinuousClock.now
        while !Task.isCancelled {
            number += 1
            let post = InboxPost(text: "chaos \(number)", clientId: UUID().uuidString.lowercased(), login: "poster", session: ChatHarness.randomSession())
            while !Task.isCancelled {
                do {
                    let outcome = try await poster.publish(post)
                    let now = ContinuousClock.now
                    self.state.withLockedValue { state in
                        switch outcome {
                        case .admitted(let id):
                            state.accepted[post.clientId] = id
                            state.lastAdmittedID = id
                        case .queued: state.accepted[post.clientId] = .some(nil)
                        case .refused: state.refusals += 1
                        }
                        state.longestStall = max(state.longestStall, now - lastAccepted)
                    }
                    lastAccepted = now
                    break
                } catch {
                    self.state.withLockedValue { $0.retries += 1 }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// A browser with `count` tabs on one connection: it connects to any node, and to the next
/// when its connection goes, logging every tab in again.
final class Browser: Sendable {
    let chat: ChatHarness
    let connector: AMQPConnector
    let tabs: [TabTally]
    private let stopped = NIOLockedValueBox(false)
    private let current = NIOLockedValueBox<AMQPConnection?>(nil)

    init(chat: ChatHarness, first: Int, count: Int) {
        self.chat = chat
        var amqp = chat.amqp
        amqp.connectionName = "chaos browser \(first)"
        self.connector = AMQPConnector(configuration: amqp, start: first)
        self.tabs = (first..<first + count).map { TabTally(login: "tab\($0)") }
    }

    /// Stops: no more logins, and the connection closes (which ends every tab's consumer).
    func stop() async {
        self.stopped.withLockedValue { $0 = true }
        try? await self.current.withLockedValue { $0 }?.close()
    }
    var isStopped: Bool { self.stopped.withLockedValue { $0 } }

    func run() async {
        while !self.isStopped {
            guard
                let connection = try? await self.connector.reconnect(
                    policy: ClusterChaosTests.policy, waitFirst: false, isStopped: { self.isStopped }
                ).connection
            else { return }
            self.current.withLockedValue { $0 = connection }
            if self.isStopped { try? await connection.close() }
            await withTaskGroup(of: Void.self) { group in
                for tab in self.tabs {
                    group.addTask { await tab.live(on: connection, chat: self.chat, stopped: { self.isStopped }) }
                }
            }
            try? await connection.close()
            self.connector.connectionLost()
        }
    }
}

/// One tab: what it received, counted.
final class TabTally: Sendable {
    let login: String
    private struct State {
        var logins = 0
        var ids: Set<String> = []
        var idsByClient: [String: Set<String>] = [:]
        var repeated = 0
        var lastPostAt: ContinuousClock.Instant?
        var longestGap: Duration = .zero
    }

    private let state = NIOLockedValueBox(State())

    init(login: String) { self.login = login }

    var signedIn: Bool { self.state.withLockedValue { $0.logins > 0 } }
    var logins: Int { self.state.withLockedValue { $0.logins } }
    var posts: Int { self.state.withLockedValue { $0.idsByClient.count } }
    var repeatedDeliveries: Int { self.state.withLockedValue { $0.repeated } }
    var postsUnderTwoIDs: Int { self.state.withLockedValue { $0.idsByClient.values.filter { $0.count > 1 }.count } }
    var longestGap: Duration { self.state.withLockedValue { $0.longestGap } }
    func has(_ id: String) -> Bool { self.state.withLockedValue { $0.ids.contains(id) } }
    func hasPost(_ clientID: String) -> Bool { self.state.withLockedValue { $0.idsByClient[clientID] != nil } }

    /// Logs in and reads the tab queue on `connection`; when the queue goes (its node did), logs
    /// in again after a pause; returns when the connection is gone.
    func live(on connection: AMQPConnection, chat: ChatHarness, stopped: @escaping @Sendable () -> Bool) async {
        let session = ChatHarness.randomSession()
        while connection.isActive && !stopped() {
            do {
                let channel = try await connection.openChannel()
                let reply = try await withDeadline(.seconds(20), "a login reply") {
                    try await chat.request(LoginRequest(action: .login, login: self.login, session: session, resume: true), on: channel)
                }
                guard reply.ok, let queue = reply.queue else { throw TestFailure("login refused: \(reply.error ?? "")") }
                let consumer = try await channel.consume(queue: queue, noAck: true)
                self.state.withLockedValue { $0.logins += 1 }
                for try await delivery in consumer {
                    guard let message = try? TabMessage.decode(delivery.body.readableBytesView) else { continue }
                    for event in message.events where event.kind == .message { self.received(event) }
                }
                try? await channel.close()
            } catch {
                // The queue's node, or the connection, went: try again shortly.
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    private func received(_ event: RoomEvent) {
        let now = ContinuousClock.now
        self.state.withLockedValue { state in
            if !state.ids.insert(event.id).inserted {
                state.repeated += 1
                return
            }
            if let client = event.clientId { state.idsByClient[client, default: []].insert(event.id) }
            if let last = state.lastPostAt { state.longestGap = max(state.longestGap, now - last) }
            state.lastPostAt = now
        }
    }
}
