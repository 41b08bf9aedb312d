import Foundation
import Testing

/// A three-node RabbitMQ cluster of a test's own, run with `scripts/broker cluster`, for tests
/// that kill, stop, partition and heal nodes.
///
/// Its ports: AMQP at `WARREN_TEST_CLUSTER_AMQP_PORT` and the two after it, Web-STOMP at
/// `WARREN_TEST_CLUSTER_STOMP_WS_PORT`.., management at `WARREN_TEST_CLUSTER_MGMT_PORT`.., Erlang
/// distribution at `WARREN_TEST_CLUSTER_DIST_PORT`..; by default the test run's AMQP and Web-STOMP
/// ports + 20 (5702-5704, 15704-15706), its management port + 30 (15712-15714) and the AMQP
/// base + 20000. State in `.warren/test-cluster-<AMQP port>`, fresh each time. Use it through
/// ``with(_:)``, which kills every node afterwards.
final class TestCluster: Sendable {
    let amqpBase: Int
    let stompBase: Int
    let managementBase: Int
    let distributionBase: Int
    let root: URL
    let stateDirectory: URL

    init() {
        func port(_ name: String, _ fallback: Int) -> Int {
            BrokerEnvironment.environment[name].flatMap(Int.init) ?? fallback
        }
        self.amqpBase = port("WARREN_TEST_CLUSTER_AMQP_PORT", port("WARREN_TEST_AMQP_PORT", 5682) + 20)
        self.stompBase = port("WARREN_TEST_CLUSTER_STOMP_WS_PORT", port("WARREN_TEST_STOMP_WS_PORT", 15684) + 20)
        self.managementBase = port("WARREN_TEST_CLUSTER_MGMT_PORT", port("WARREN_TEST_MGMT_PORT", 15682) + 30)
        self.distributionBase = port("WARREN_TEST_CLUSTER_DIST_PORT", self.amqpBase + 20000)
        self.root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        self.stateDirectory = self.root.appendingPathComponent(".warren/test-cluster-\(self.amqpBase)")
    }

    /// Starts a fresh cluster, runs `body`, and kills every node afterwards, also when it threw.
    static func with<T: Sendable>(_ body: (TestCluster) async throws -> T) async throws -> T {
        let cluster = TestCluster()
        do {
            _ = try? await cluster.run(["kill"])  // a cluster left behind by a crashed run
            try await cluster.run(["start"], fresh: true)
            let result = try await body(cluster)
            try await cluster.run(["kill"])
            return result
        } catch {
            _ = try? await cluster.run(["kill"])
            throw error
        }
    }

    /// `WARREN_AMQP_URL` for the three nodes: the test broker's user, password and vhost.
    func amqpURLs() throws -> String {
        var components = try #require(URLComponents(url: BrokerEnvironment.amqpURL, resolvingAgainstBaseURL: false))
        components.host = "127.0.0.1"
        return try (0..<3).map { offset in
            components.port = self.amqpBase + offset
            return try #require(components.url).absoluteString
        }.joined(separator: ",")
    }

    /// SIGKILL of node `n` (1...3).
    func kill(_ n: Int) async throws { try await self.run(["kill", "\(n)"]) }
    /// A graceful stop of node `n`.
    func stop(_ n: Int) async throws { try await self.run(["stop", "\(n)"]) }
    /// Starts node `n` again; returns once it is back in the cluster.
    func restart(_ n: Int) async throws { try await self.run(["restart", "\(n)"]) }
    /// Cuts node `n` off from the other two.
    func partition(_ n: Int) async throws { try await self.run(["partition", "\(n)"]) }
    /// Ends a partition; returns once the three run as one cluster again.
    func heal() async throws { try await self.run(["heal"]) }
    /// rabbitmqctl against node `n`.
    @discardableResult
    func ctl(_ n: Int, _ arguments: [String]) async throws -> String { try await self.run(["ctl", "\(n)"] + arguments) }

    @discardableResult
    private func run(_ arguments: [String], fresh: Bool = false) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["WARREN_CLUSTER_DIR"] = self.stateDirectory.path
        environment["WARREN_CLUSTER_AMQP_PORT"] = String(self.amqpBase)
        environment["WARREN_CLUSTER_STOMP_WS_PORT"] = String(self.stompBase)
        environment["WARREN_CLUSTER_MGMT_PORT"] = String(self.managementBase)
        environment["WARREN_CLUSTER_DIST_PORT"] = String(self.distributionBase)
        environment["WARREN_CLUSTER_FRESH"] = fresh ? "1" : "0"
        environment["WARREN_BROKER_TIMEOUT"] = "150"
        return try await PrivateBroker.runScript(
            root: self.root, arguments: ["cluster"] + arguments, environment: environment, logName: "test-cluster-\(self.amqpBase)",
            timeout: .seconds(300)
        )
    }
}
