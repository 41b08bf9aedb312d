import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import WarrenCore
import WarrenOps
import WarrenServices
import WarrenWeb

/// The web role's client (the hardening tests have a `ManagementAPI` of their own).
private typealias WebManagementAPI = WarrenWeb.ManagementAPI

/// `GET /api/ops` against the real broker and its management API: 401 without a token, 403 for a
/// non-admin, and for an admin the roles online (from the consumers of their queues), the shared
/// queues, the tabs and a dead letter with its reason; the management API is asked at most once
/// per reading however many pages ask, and the queue depths reach `warren_queue_messages`.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct OpsPageTests {
    static var managementURL: String {
        BrokerEnvironment.environment["WARREN_MGMT_URL"] ?? "http://127.0.0.1:\(BrokerEnvironment.environment["WARREN_MGMT_PORT"] ?? "15672")"
    }

    @Test("The ops endpoint refuses a non-admin and shows an admin the roles, queues, tabs and dead letters")
    func adminsSeeTheDeployment() async throws {
        let factory = WarrenMetricsFactory()
        try await withMetricsFactory(factory) {
            try await ChatHarness.with(timeout: 120) { chat in
                try await chat.start(chat.login())
                try await chat.start(chat.reverser())
                let alice = try await chat.tab("alice")
                _ = alice
                try await chat.publishRaw("{not a post", to: chat.topology.inbox)
                try await APIMessagesTests.waitForDeadLetters(chat, 1)

                let api = try #require(WebManagementAPI(url: Self.managementURL, amqpURL: BrokerEnvironment.amqpURL.absoluteString))
                let watcher = OpsWatcher(api: api, topology: chat.topology, logger: chat.logger)
                try await AuthWebRole.withKeys { keys in
                    var web = WebConfiguration(webRoot: FileManager.default.temporaryDirectory.path, prefix: chat.topology.prefix)
                    web.admins = ["root"]
                    let app = buildApplication(configuration: web, brokerReachable: { true }, accounts: keys.accounts(), ops: watcher, logger: chat.logger)
                    try await app.test(.router) { http in
                        let root = try await APIMessagesTests.register(http, "root")
                        let bob = try await APIMessagesTests.register(http, "bob")
                        func ops(_ token: String?) async throws -> (HTTPResponse.Status, [String: Any]) {
                            var headers: HTTPFields = [:]
                            if let token { headers[.authorization] = "Bearer \(token)" }
                            let response = try await http.execute(uri: "/api/ops", method: .get, headers: headers)
                            return (response.status, try APIMessagesTests.json(response))
                        }

                        let (none, noneBody) = try await ops(nil)
                        #expect(none == .unauthorized)
                        #expect(noneBody["code"] as? String == "token.missing")
                        let (forbidden, forbiddenBody) = try await ops(bob)
                        #expect(forbidden == .forbidden)
                        #expect(forbiddenBody["code"] as? String == "ops.forbidden")
                        #expect(await watcher.requests == 0, "a refused request does not reach the management API")

                        // The broker's figures lag its statistics interval (5 s): wait for them.
                        var body: [String: Any] = [:]
                        try await eventually("the roles and the dead letter in /api/ops", within: 40) {
                            let (status, answer) = try await ops(root)
                            #expect(status == .ok)
                            body = answer
                            let roles = answer["roles"] as? [[String: Any]] ?? []
                            let online = Set(roles.filter { ($0["instances"] as? Int ?? 0) > 0 }.compactMap { $0["role"] as? String })
                            let dead = answer["deadLetters"] as? [String: Any]
                            return online == ["login", "reverser"] && (dead?["shown"] as? [Any])?.isEmpty == false
                                && (answer["tabs"] as? Int ?? 0) >= 1
                        }
                        #expect((body["management"] as? [String: Any])?["ok"] as? Bool == true)
                        let queues = body["queues"] as? [[String: Any]] ?? []
                        #expect(Set(queues.compactMap { $0["queue"] as? String }).isSuperset(of: ["login", "inbox", "bot.reverser", "dead"]))
                        #expect(!queues.contains { ($0["queue"] as? String ?? "").contains("user.") }, "no tab queue among the shared queues")
                        let letter = try #require(((body["deadLetters"] as? [String: Any])?["shown"] as? [[String: Any]])?.first)
                        #expect(letter["queue"] as? String == "inbox")
                        #expect(letter["reason"] as? String == "rejected")
                        #expect((letter["payload"] as? String)?.contains("not a post") == true)
                        #expect(try await chat.messageCount(chat.topology.dead) == 1, "the dead letter was looked at, not taken")

                        // Cached: many pages at once cost one reading.
                        let before = await watcher.requests
                        try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                            for _ in 0..<20 { group.addTask { try await ops(root).0 } }
                            for try await status in group { #expect(status == .ok) }
                        }
                        #expect(await watcher.requests - before <= 3, "at most one reading of the queues and one of the dead letters")

                        let reading = MetricsReading(factory)
                        #expect(reading.has("warren_queue_messages"))
                        #expect(reading.value("warren_queue_messages", ["shared_queue": "dead"]) == 1)
                        #expect(reading.value("warren_queue_consumers", ["shared_queue": "bot.reverser"]) >= 1)
                        #expect(!reading.samples.contains { $0.labels["shared_queue"]?.contains("user.") == true }, "no tab queue as a label")
                    }
                }
            }
        }
    }

    @Test("Without a reachable management API an admin gets the error, not a hang")
    func managementDown() async throws {
        let api = try #require(WebManagementAPI(url: "http://127.0.0.1:1", amqpURL: BrokerEnvironment.amqpURL.absoluteString))
        var quiet = Logger(label: "warren.test")
        quiet.logLevel = .critical
        let watcher = OpsWatcher(api: api, topology: try Topology(prefix: "nowhere"), logger: quiet)
        let overview = await watcher.overview()
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(overview)) as? [String: Any]
        let management = json?["management"] as? [String: Any]
        #expect(management?["ok"] as? Bool == false)
        #expect((management?["error"] as? String)?.contains("127.0.0.1:1") == true)
    }
}
