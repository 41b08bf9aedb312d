import AMQPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// The chaos drill: every role (as `warren up` runs them, a ``RoleService`` each with the three
/// nodes in WARREN_AMQP_URL; or as processes of a `warren` binary) on a three-node cluster of the
/// suite's own (``TestCluster``), tabs played over AMQP by four "browsers" (each a connection
/// that moves to the next node when its node goes, and logs its tabs in again when their queues
/// go), and posts at a steady rate through the web role's broker link (`APIPostPublisher`, the
/// path of `POST /api/messages`; an open schedule, ``PostLedger``). Meanwhile each node in turn
/// is killed (SIGKILL) and started again, one is stopped gracefully and started again, and one
/// is cut off by a partition and healed. Counted the way the Jepsen tests of quorum queues
/// count, after healing and draining: accepted posts missing from the history (lost: must be
/// 0), posts stored or delivered under two event ids (duplicates), history entries nobody sent
/// (unexpected), deliveries of an id a tab already had, the longest gap a tab saw, and what
/// each fault cost (``FaultCost``: how long posting stalled, how long until every tab had a
/// newer post). Every tab must carry on: each has the last post at the end.
///
/// By default (in every `scripts/test` run) the short version: 40 tabs, 10 posts a second, each
/// fault once. The long version (docs/testing.md) sets `WARREN_TEST_CLUSTER_DRILL_SECONDS` (how
/// long posts are sent at least, default 30; the faults repeat in turn while there is time),
/// `WARREN_TEST_CLUSTER_DRILL_RATE` (posts a second, default 10; the issue's is 50),
/// `WARREN_TEST_CLUSTER_DRILL_TABS` (default 40; the issue's is 200) and, for rates a debug
/// build in one process cannot carry, `WARREN_TEST_CLUSTER_DRILL_WARREN` (a `warren` binary
/// whose processes run the back-end roles). General comes from its stream, as by default: every
/// role runs with `WARREN_GENERAL_STREAM=on`, and each tab reads general from its stream as the
/// page does (subscribe, then log in; ``TabTally``); `WARREN_TEST_CLUSTER_DRILL_GENERAL_STREAM=off`
/// sends it through every tab's queue instead. `WARREN_TEST_CLUSTER_DRILL=0` leaves the drill out.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed"),
    .enabled(if: ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL"] != "0", "WARREN_TEST_CLUSTER_DRILL=0 leaves the chaos drill out")
)
struct ClusterChaosTests {
    static let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1))
    /// `WARREN_TEST_CLUSTER_DRILL_TABS` (default 40 for the short version; the issue's is 200),
    /// played by four browsers.
    static var tabs: Int {
        ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL_TABS"].flatMap(Int.init).map { max($0, browsers) } ?? 40
    }
    static let browsers = 4
    /// `WARREN_TEST_CLUSTER_DRILL_RATE` (default 10, what a debug build keeps up with on the
    /// shared 2-core machine beside the rest of the suite; the issue's 50 is for the long version,
    /// docs/testing.md).
    static var postsPerSecond: Int {
        ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL_RATE"].flatMap(Int.init) ?? 10
    }
    /// `WARREN_TEST_CLUSTER_DRILL_SECONDS` (default 30): the faults take longer, so by default
    /// posting lasts as long as each fault once.
    static var seconds: Double {
        ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL_SECONDS"].flatMap(Double.init) ?? 30
    }
    /// `WARREN_TEST_CLUSTER_DRILL_WARREN`: a `warren` binary (e.g. a release build) whose
    /// `warren login`, `reverser`, `pow-worker`, `cron` and `history` run the back-end roles as
    /// processes of their own; unset, they run in the test process. The web role's broker link
    /// (the poster) and the tabs stay in the test.
    static var program: String? {
        ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL_WARREN"].flatMap { $0.isEmpty ? nil : $0 }
    }
    /// General reaches the tabs through its stream, as by default (every role with
    /// `WARREN_GENERAL_STREAM=on`, each tab reading the stream at its own offset, as the page
    /// does); `WARREN_TEST_CLUSTER_DRILL_GENERAL_STREAM=off`: through every tab's queue.
    static var generalStream: Bool {
        ProcessInfo.processInfo.environment["WARREN_TEST_CLUSTER_DRILL_GENERAL_STREAM"] != "off"
    }
    /// How long each fault lasts before the node is started again (or the partition healed).
    static let outage: Duration = .seconds(5)
    /// How long the drill waits after a node is back (or the partition healed) before the next fault.
    static let settle: Duration = .seconds(3)
    /// How long posting goes on after the last fault at least.
    static let tail: Duration = .seconds(10)
    /// The faults, in turn: each node killed, one graceful stop, one partition.
    static let faults: [(what: String, node: Int, kind: FaultKind)] = [
        ("kill -9 node 1", 1, .kill), ("kill -9 node 2", 2, .kill), ("kill -9 node 3", 3, .kill),
        ("graceful stop of node 1", 1, .stop), ("partition of node 2", 2, .partition),
    ]
    enum FaultKind { case kill, stop, partition }

    @Test func everyAcceptedPostSurvivesNodeLossesAndEveryTabCarriesOn() async throws {
        try await TestCluster.with { cluster in
            let urls = try cluster.amqpURLs()
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("warren-chaos-\(UUID().uuidString).sqlite")
            defer { try? FileManager.default.removeItem(at: file) }
            try await ChatHarness.with(environment: [
                "WARREN_AMQP_URL": urls, "WARREN_CRON_SCHEDULE": "@every 5s", "WARREN_GENERAL_STREAM": Self.generalStream ? "on" : "off",
            ], timeout: 900 + Self.seconds) { chat in
                #expect(chat.configuration.queueType == .quorum, "several nodes make quorum queues the default")
                #expect(chat.configuration.generalStream == Self.generalStream)
                let store = try await Store.open(url: "sqlite:\(file.path)", logger: HistoryBackend.logger)
                let recorder = LogRecorder()
                let poster = APIPostPublisher(configuration: chat.configuration, logger: chat.logger)
                // The back-end roles in this process, or as processes of their own.
                let processes = try Self.program.map { program in
                    try RoleProcesses.start(program: program, roles: ["login", "reverser", "pow-worker", "cron", "history"], environment: [
                        "WARREN_AMQP_URL": urls, "WARREN_PREFIX": chat.configuration.prefix, "WARREN_POW_BITS": "12",
                        "WARREN_RPC_TIMEOUT_MS": "5000", "WARREN_USER_QUEUE_TTL_MS": "60000", "WARREN_CRON_SCHEDULE": "@every 5s",
                        "WARREN_BROKER_AUTH": "off", "WARREN_DATABASE_URL": "sqlite:\(file.path)", "WARREN_METRICS_PORT": "off",
                        "WARREN_GRPC_PORT": "off", "WARREN_POW_GRPC_PORT": "off", "WARREN_GENERAL_STREAM": Self.generalStream ? "on" : "off",
                        "WARREN_LOG_LEVEL": ProcessInfo.processInfo.environment["WARREN_TEST_LOG_LEVEL"] ?? "warning",
                    ])
                }
                let roles: [any WarrenRole] = processes != nil ? [poster] : [
                    chat.login(), chat.reverser(), chat.powWorker(), chat.cron(clock: ScaledCronClock(speed: 1)), chat.history(store: store.events), poster,
                ]
                let group = ServiceGroup(
                    services: roles.map { RoleService(role: $0, amqp: chat.amqp, logger: recorder.logger(), policy: Self.policy) },
                    logger: chat.logger
                )
                let running = Task { try await group.run() }
                let ledger = PostLedger()
                let origin = ContinuousClock.now
                let per = Self.tabs / Self.browsers
                let browsers = (0..<Self.browsers).map {
                    Browser(chat: chat, ledger: ledger, origin: origin, first: $0 * per, count: per, policy: Self.policy)
                }
                let browsing = browsers.map { browser in Task { await browser.run() } }
                do {
                    try await Self.drill(
                        chat: chat, cluster: cluster, store: store, poster: poster, ledger: ledger, origin: origin, browsers: browsers, processes: processes
                    )
                } catch {
                    for browser in browsers { await browser.stop() }
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    await processes?.stop()
                    await store.close()
                    throw TestFailure(
                        "\(error)\nrole log: \(recorder.lines.suffix(40).joined(separator: "\n"))\n\(processes?.logTail() ?? "")"
                    )
                }
                for browser in browsers { await browser.stop() }
                for task in browsing { await task.value }
                await group.triggerGracefulShutdown()
                try await running.value
                if let processes {
                    #expect(processes.ended.isEmpty, "role processes that ended during the drill: \(processes.ended)\n\(processes.logTail())")
                    await processes.stop()
                }
                await store.close()
            }
        }
    }

    static func drill(
        chat: ChatHarness, cluster: TestCluster, store: Store, poster: APIPostPublisher, ledger: PostLedger, origin: ContinuousClock.Instant,
        browsers: [Browser], processes: RoleProcesses?
    ) async throws {
        // The shared queues are quorum queues; tab queues stay classic. The history role
        // declares its queue once it has connected, which may be after this starts.
        var types = ""
        try? await eventually("the history role's queue", within: 30) {
            types = try await cluster.ctl(1, ["list_queues", "-p", BrokerEnvironment.vhost, "name", "type"])
            return types.contains("\(chat.topology.history)\t")
        }
        #expect(types.contains("\(chat.topology.inbox)\tquorum"), "queue types: \(types)")
        #expect(types.contains("\(chat.topology.history)\tquorum"), "queue types: \(types)")
        if chat.configuration.generalStream {
            #expect(types.contains("\(chat.topology.generalStream)\tstream"), "queue types: \(types)")
        }

        let tabs = browsers.flatMap(\.tabs)
        try await eventually("every tab signed in", within: 120) { tabs.allSatisfy(\.signedIn) }
        let stopPosting = NIOLockedValueBox(false)
        defer { stopPosting.withLockedValue { $0 = true } }  // also when the drill fails
        let posting = Task { await ledger.post(through: poster, perSecond: Self.postsPerSecond) { stopPosting.withLockedValue { $0 } } }
        try await eventually("the first posts reach every tab", within: 60) { tabs.allSatisfy { $0.posts > 0 } }
        let started = ContinuousClock.now
        func now() -> Double { (ContinuousClock.now - origin).inSeconds }
        let end = now() + Self.seconds

        // Every fault once, then again in turn while there is time for one more (a node takes
        // 5-30 s to come back); posts go on until the end, and `tail` after the last fault at
        // least, so that the last post is made once every tab has logged in again.
        var faults: [ChaosFault] = []
        try await Task.sleep(for: .seconds(5))
        var next = 0
        while next < Self.faults.count || now() + 25 < end {
            let (what, node, kind) = Self.faults[next % Self.faults.count]
            next += 1
            var fault = ChaosFault(what: what, at: now(), back: 0)
            switch kind {
            case .kill: try await cluster.kill(node)
            case .stop: try await cluster.stop(node)
            case .partition: try await cluster.partition(node)
            }
            try await Task.sleep(for: Self.outage)
            if kind == .partition { try await cluster.heal() } else { try await cluster.restart(node) }
            fault.back = now()
            faults.append(fault)
            try await Task.sleep(for: Self.settle)
        }
        let stopAt = max(end, now() + Self.tail.inSeconds - Self.settle.inSeconds)
        if stopAt > now() { try await Task.sleep(for: .seconds(stopAt - now())) }
        let postingSeconds = (ContinuousClock.now - started).inSeconds
        stopPosting.withLockedValue { $0 = true }
        // Posts still on their way go on being tried (bounded by the ledger's drain).
        try await withDeadline(.seconds(90), "the posts in flight") { await posting.value }

        // Drain: every accepted post should reach the history, and every tab the last post. The
        // harness's own connection may have been on a node that went: count on any node.
        let counter = QueueCounter(amqp: chat.amqp)
        defer { Task { await counter.close() } }
        let posts = ledger.posts
        let accepted = posts.indices.filter { posts[$0].acceptedAt != nil }
        let ours = Set(posts.map(\.clientId))
        // A look that fails (a node still coming back, the store busy with the history role's
        // write) is tried again until the bound: one failure must not end the wait and count
        // every post lost. After the wait, the store is read once more whatever happened.
        var stored: [RoomEvent] = []
        var historyReady: UInt32?
        var drainFailure: String?
        try? await eventually("the history holds every accepted post", within: 40) {
            do {
                historyReady = try await counter.ready(chat.topology.history)
                guard historyReady == 0 else { return false }
                stored = try await store.events.latest(limit: 1_000_000)
                let clientIDs = Set(stored.compactMap(\.clientId))
                return accepted.allSatisfy { clientIDs.contains(posts[$0].clientId) }
            } catch {
                drainFailure = "\(error)"
                return false
            }
        }
        if let latest = try? await store.events.latest(limit: 1_000_000), latest.count > stored.count { stored = latest }
        // The last post: the last one sent that the broker took, `tail` after the last fault at
        // least, when every tab has its queue again: it reaches each live (a post admitted
        // before the last fault may reach a tab that logged in again only in its backfill,
        // which a swamped history role may not have answered in time).
        let last = accepted.last ?? 0
        try? await eventually("every tab has the last post", within: 60) { tabs.allSatisfy { $0.has(last) } }

        // Jepsen's count: lost (accepted, not stored), duplicated (stored under two ids),
        // unexpected (stored, never sent), and the sent but unanswered posts that were stored.
        let storedByClient = Dictionary(grouping: stored.filter { $0.kind == .message && $0.clientId != nil }, by: { $0.clientId! })
        let lost = accepted.filter { storedByClient[posts[$0].clientId] == nil }
        let storedTwice = storedByClient.values.filter { Set($0.map(\.id)).count > 1 }.count
        let unexpected = storedByClient.keys.filter { !ours.contains($0) }.count
        let unanswered = posts.filter { $0.acceptedAt == nil }
        let unansweredStored = unanswered.filter { storedByClient[$0.clientId] != nil }.count
        let tabDuplicates = tabs.map(\.postsUnderTwoIDs).reduce(0, +)
        let redeliveries = tabs.map(\.repeatedDeliveries).reduce(0, +)
        let longestGap = tabs.map(\.longestGap).max() ?? .zero
        let missingTabs = tabs.filter { !$0.has(last) }.count
        let deadLetters = try await counter.ready(chat.topology.dead) ?? 0
        let costs = FaultCost.measure(
            faults: faults,
            accepted: posts.compactMap { $0.acceptedAt.map { ($0 - origin).inSeconds } },
            sent: posts.map { ($0.sentAt - origin).inSeconds },
            late: posts.filter { $0.acceptedAt != nil && $0.admittedID == nil }.map { ($0.sentAt - origin).inSeconds },
            arrivals: tabs.map(\.arrivals), logins: tabs.map(\.loginsAt)
        )
        // What became of each lost post: the login service's answer, and whether a tab had it.
        let whatBecame = lost.prefix(5).map { number in
            let seen = tabs.filter { $0.has(number) }.count
            return "post \(number) (\(posts[number].clientId)): \(posts[number].admittedID.map { "admitted as \($0)" } ?? "queued, no answer"), \(seen) tabs had it"
        }
        // Where the lost posts could be: the shared queues' counts on a node of the majority.
        let queues = lost.isEmpty ? "" : ((try? await cluster.ctl(1, [
            "list_queues", "-p", BrokerEnvironment.vhost, "name", "type", "messages_ready", "messages_unacknowledged", "consumers",
        ])) ?? "").split(separator: "\n").filter { $0.hasPrefix(chat.configuration.prefix + ".") && !$0.contains(".user.") }.joined(separator: "\n")
        let rate = Double(accepted.count) / postingSeconds
        let general = chat.configuration.generalStream
            ? "general from its stream \(chat.topology.generalStream) (WARREN_GENERAL_STREAM=on; each tab subscribes, then logs in): " +
                "\(tabs.map(\.streamSubscriptions).reduce(0, +)) subscriptions, " +
                "\(tabs.map(\.streamCancellations).reduce(0, +)) consumers ended under a live tab and subscribed again"
            : "general through every tab's queue (WARREN_GENERAL_STREAM=off)"
        let report = """
            cluster drill: roles \(Self.program.map { "as processes of \($0) (logs in \(processes?.folder.path ?? "?"))" } ?? "in the test process"); \
            \(tabs.count) tabs, \(Self.postsPerSecond) posts/s asked for \(Int(postingSeconds)) s: \(posts.count) sent, \
            \(accepted.count) accepted (\(String(format: "%.1f", rate))/s; \(posts.filter { $0.admittedID != nil }.count) admitted with an id, the rest queued), \
            \(ledger.retries) tries again after a failure, \(ledger.refusals) refused, \(unanswered.count) never accepted; \
            schedule slipped \(String(format: "%.1f", ledger.slipped.inSeconds)) s at most
            delivery: \(general)
            after healing and draining: lost \(lost.count) (accepted, not in the history); duplicated \(storedTwice) (stored under two ids); \
            unexpected \(unexpected) (stored, never sent); never accepted but stored \(unansweredStored); \
            history queue \(historyReady.map { "\($0) ready" } ?? "not seen") at the last look\(drainFailure.map { "; a look failed: \($0)" } ?? "")
            tabs: \(tabDuplicates) posts got under two ids; \(redeliveries) events got again (backfill after a re-login, redelivery; dropped by id); \
            longest gap a tab saw between posts \(String(format: "%.1f", longestGap.inSeconds)) s; \(tabs.map(\.logins).reduce(0, +) - tabs.count) re-logins; \
            \(missingTabs) tabs without the last post (\(last)); dead letters \(deadLetters)
            faults (time to recover):
            \(costs.map { "  \($0)" }.joined(separator: "\n"))
            \(whatBecame.joined(separator: "\n"))
            \(queues)
            """
        print(report)
        let artifacts = cluster.root.appendingPathComponent(".warren/artifacts")
        try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try? report.write(to: artifacts.appendingPathComponent("cluster-drill.txt"), atomically: true, encoding: .utf8)

        #expect(faults.count >= Self.faults.count, "every fault had its turn: \(report)")
        #expect(Double(accepted.count) > Double(Self.postsPerSecond) * postingSeconds * 0.8, "posting went on: \(report)")
        // The goal is 0, and nothing less passes.
        #expect(lost.isEmpty, "posts lost: \(lost.prefix(5)); \(report)")
        #expect(unexpected == 0, "unexpected posts in the history: \(report)")
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
