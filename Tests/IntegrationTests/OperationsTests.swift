import AMQPClient
import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenOps
import WarrenServices
import WarrenWeb

/// Operating Warren against the real broker: each metric family moves when its event happens,
/// `/readyz` follows the broker, and the JSON log lines of one post carry its ids in every role.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct OperationsTests {
    @Test("Posts, refusals, logins, deliveries, proofs and history batches move their metrics")
    func familiesMove() async throws {
        let factory = WarrenMetricsFactory()
        try await withMetricsFactory(factory) {
            try await withSQLiteStore { store in
                try await ChatHarness.with { chat in
                    let watcher = try await chat.roomWatcher()
                    try await chat.startChat()
                    try await chat.startHistory(store: store.events)
                    let before = MetricsReading(factory)
                    #expect(before.value("warren_posts_admitted_total") == 0)

                    let alice = try await chat.tab("alice")
                    let plain = try await alice.post("hello")
                    try await watcher.first("the reply") { $0.kind == .reply && $0.text == "olleh" }
                    let pow = try await alice.post("work !pow")
                    try await watcher.first("the proof") { $0.kind == .proof && $0.clientId == pow }
                    try await alice.post(String(repeating: "x", count: Limits.textMaxCharacters + 1))
                    try await alice.events.first("the refusal") { $0.kind == .error && $0.code == "text.tooLong" }
                    try await eventually("the room to be stored") { try await store.events.count() >= 4 }
                    _ = plain
                    // A figure is recorded just after what the test can see (a reply sent, a row stored).
                    try await eventually("the login and the history batch to be counted") {
                        let now = MetricsReading(factory)
                        return now.value("warren_logins_total") == 1 && now.value("warren_history_batch_events_sum") >= 4
                    }

                    var now = MetricsReading(factory)
                    #expect(now.value("warren_posts_admitted_total", ["route": "plain"]) == 1)
                    #expect(now.value("warren_posts_admitted_total", ["route": "pow"]) == 1)
                    #expect(now.value("warren_posts_refused_total", ["code": "text.tooLong"]) == 1)
                    #expect(now.value("warren_logins_total", ["session": "new"]) == 1)
                    #expect(now.value("warren_tabs_signed_in") == 1)
                    // The plain post twice (to its room and to the bots), the !pow one once (to the bots; its
                    // proof reaches the room).
                    #expect(now.value("warren_deliveries_published_total", ["kind": "message"]) == 3, "the plain post twice and the !pow one")
                    #expect(now.value("warren_deliveries_published_total", ["kind": "reply"]) == 1)
                    #expect(now.value("warren_deliveries_published_total", ["kind": "pow.job"]) == 1)
                    #expect(now.value("warren_deliveries_published_total", ["kind": "proof"]) == 1)
                    #expect(now.value("warren_deliveries_published_total", ["kind": "presence"]) == 1)
                    #expect(now.value("warren_deliveries_published_total", ["kind": "error"]) == 1)
                    #expect(now.value("warren_deliveries_published_total", ["kind": "login.reply"]) == 1)
                    #expect(now.value("warren_pow_solve_seconds_count", ["via": "queue"]) == 1)
                    #expect(now.value("warren_pow_hashes_per_second") > 0)
                    #expect(now.value("warren_history_batch_events_count") >= 1)
                    #expect(now.value("warren_history_batch_events_sum") >= 4)
                    #expect(now.value("warren_history_write_seconds_count") == now.value("warren_history_batch_events_count"))

                    let reply = try await alice.logout()
                    #expect(reply.ok)
                    try await eventually("the logout to be counted") { MetricsReading(factory).value("warren_logouts_total") == 1 }
                    now = MetricsReading(factory)
                    #expect(now.value("warren_logouts_total") == 1)
                    #expect(now.value("warren_tabs_signed_in") == 0)
                }
            }
        }
    }

    @Test("One post's JSON log lines carry its event id and client id in login, reverser and history")
    func jsonLogsFollowAPost() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let sink = LogSink { line in lines.withLockedValue { $0.append(line) } }
        @Sendable func logger(_ role: String) -> Logger {
            var logger = Logger(label: "warren.services") { label in
                var handler = JSONLogHandler(label: label, sink: sink)
                handler.logLevel = .debug
                return handler
            }
            logger[metadataKey: "role"] = "\(role)"
            return logger
        }
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let watcher = try await chat.roomWatcher()
                try await chat.start(LoginRole(configuration: chat.configuration, logger: logger("login")))
                try await chat.start(ReverserRole(configuration: chat.configuration, logger: logger("reverser")))
                let history = HistoryRole(configuration: chat.configuration, store: store.events, logger: logger("history"))
                let before = try await chat.consumerCount(chat.topology.history) ?? 0
                try await chat.start(history)
                try await eventually("the history role to consume") { try await chat.consumerCount(chat.topology.history) ?? 0 > before }
                let alice = try await chat.tab("alice")
                let clientId = try await alice.post("follow me")
                let post = try await watcher.first("the post") { $0.clientId == clientId && $0.kind == .message }
                try await watcher.first("the reply") { $0.inReplyTo == post.id }
                try await eventually("the post to be stored") { try await store.events.latest(limit: 10).contains { $0.id == post.id } }
                try await eventually("history's line") {
                    lines.withLockedValue { $0 }.contains { $0.contains("\"event stored\"") && $0.contains(post.id) }
                }
            }
            let objects = try lines.withLockedValue { $0 }.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
            #expect(!objects.isEmpty)
            for role in ["login", "reverser", "history"] {
                let trail = objects.filter { $0["role"] as? String == role && $0["id"] != nil && $0["clientId"] != nil }
                #expect(!trail.isEmpty, "\(role) logged a line with the post's id and client id")
            }
            let ids = Set(objects.compactMap { $0["id"] as? String })
            let byRole = Dictionary(grouping: objects.filter { $0["id"] != nil }) { $0["role"] as? String ?? "" }
            let shared = ["login", "reverser", "history"].map { role in Set((byRole[role] ?? []).compactMap { $0["id"] as? String }) }
                .reduce(ids) { $0.intersection($1) }
            #expect(!shared.isEmpty, "one event id appears in all three roles' lines")
        }
    }

    @Test("/readyz is 503 while the role's broker is stopped and 200 once it is back; the reconnect is counted")
    func readinessFollowsTheBroker() async throws {
        guard PrivateBroker.available else { return }
        let factory = WarrenMetricsFactory()
        let board = ReadinessBoard()
        try await PrivateBroker.with { broker in
            var amqp = try broker.configuration()
            amqp.connectionTimeout = .seconds(5)
            let configuration = try WarrenConfiguration.load(
                // General's stream off, as in ChatHarness: this test counts the login role's
                // reconnects, and the stream's declaration on a node just back is another
                // step that may fail and count one more (seen once in CI).
                environment: [
                    "WARREN_AMQP_URL": BrokerEnvironment.amqpURL.absoluteString, "WARREN_PREFIX": "t\(UInt32.random(in: 0...UInt32.max))",
                    "WARREN_GENERAL_STREAM": "off",
                ],
                envFile: nil
            )
            var quiet = Logger(label: "warren.test")
            quiet.logLevel = .critical
            let service = RoleService(
                role: LoginRole(configuration: configuration, logger: quiet), amqp: amqp, logger: quiet,
                policy: AMQPRecoveryPolicy(initialDelay: .milliseconds(200), maxDelay: .seconds(1))
            )
            try await withMetricsFactory(factory) {
                try await ReadinessBoard.$current.withValue(board) {
                    let running = Task { try await service.run() }
                    defer { running.cancel() }
                    let app = buildOperationsApplication(host: "127.0.0.1", port: 0, logger: quiet)
                    try await app.test(.live) { client in
                        func status() async throws -> HTTPResponse.Status {
                            try await client.execute(uri: "/readyz", method: .get) { $0.status }
                        }
                        try await eventually("ready", within: 30) { try await status() == .ok }
                        #expect(try await client.execute(uri: "/healthz", method: .get) { $0.status } == .ok)
                        try await broker.stop()
                        try await eventually("not ready", within: 30) { try await status() == .serviceUnavailable }
                        #expect(try await client.execute(uri: "/healthz", method: .get) { $0.status } == .ok, "alive all the same")
                        try await broker.start()
                        try await eventually("ready again", within: 60) { try await status() == .ok }
                        let metrics = try await client.execute(uri: "/metrics", method: .get) { response in
                            #expect(response.headers[.contentType] == WarrenMetrics.contentType)
                            return String(buffer: response.body)
                        }
                        let reading = MetricsReading(parsing: metrics)
                        #expect(reading.value("warren_broker_reconnects_total", ["role": "login"]) == 1)
                        #expect(reading.value("warren_broker_connected", ["role": "login"]) == 1)
                    }
                    running.cancel()
                    _ = await running.result
                }
            }
        }
    }
}
