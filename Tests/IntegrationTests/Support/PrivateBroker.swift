import AMQPClient
import Foundation
import NIOConcurrencyHelpers
import Testing

/// A second RabbitMQ node of a test's own, started with `scripts/broker`, for tests that stop,
/// kill, restart or force-close a broker: the shared test broker is used by suites running in
/// parallel and must never be disturbed.
///
/// Use it through ``with(_:)``, which starts the node, runs the body and kills the node whatever
/// happens (also when the body throws):
///
/// ```swift
/// try await PrivateBroker.with { broker in
///     let configuration = try broker.configuration()
///     // ... connect, then:
///     try await broker.stop()      // graceful stop (durable state survives)
///     try await broker.start()     // same node, same state, same ports
///     try await broker.ctl(["close_all_connections", "test"])
///     try await broker.kill()      // SIGKILL, for crash tests
/// }
/// ```
///
/// The node's state lives in `.warren/private-broker-<amqp port>` in the checkout, fresh on the
/// first start, kept across ``stop()``/``start()`` so durable queues and persistent messages
/// survive a restart. Its ports come from `WARREN_TEST_PRIVATE_AMQP_PORT`,
/// `WARREN_TEST_PRIVATE_STOMP_WS_PORT`, `WARREN_TEST_PRIVATE_STOMP_PORT`,
/// `WARREN_TEST_PRIVATE_MGMT_PORT` and `WARREN_TEST_PRIVATE_DIST_PORT` (defaults 5686, 15686,
/// 61626, 15687, 25686). There is one set of ports, so suites that use a private broker must
/// be `.serialized`; suites running in parallel that share ports (the defaults from the
/// environment) take turns: ``with(ports:_:)`` holds the node's AMQP port for the whole body
/// (``PortTurns``), so one suite's node never meets another's. Pass distinct ``Ports`` to run
/// side by side instead.
///
/// `scripts/broker start` leaves the Erlang VM running in the background, holding whatever it
/// inherited: the script runs through ``SpawnedProcess`` (posix_spawn, output to a log file,
/// every other descriptor closed, waitpid with a timeout), never Foundation.Process.
final class PrivateBroker: Sendable {
    /// The node's listeners on 127.0.0.1.
    struct Ports: Sendable {
        var amqp: Int
        var stompWebSocket: Int
        var stomp: Int
        var management: Int
        var distribution: Int

        /// From the WARREN_TEST_PRIVATE_* variables, else the defaults.
        static var fromEnvironment: Ports { fromEnvironment(offset: 0) }

        /// From the WARREN_TEST_PRIVATE_* variables (else the defaults), each plus `offset`: a
        /// second set for a suite whose node may run beside the first, which moves along when
        /// the variables give a test run its own ports.
        static func fromEnvironment(offset: Int) -> Ports {
            func port(_ name: String, _ fallback: Int) -> Int {
                (BrokerEnvironment.environment[name].flatMap(Int.init) ?? fallback) + offset
            }
            return Ports(
                amqp: port("WARREN_TEST_PRIVATE_AMQP_PORT", 5686),
                stompWebSocket: port("WARREN_TEST_PRIVATE_STOMP_WS_PORT", 15686),
                stomp: port("WARREN_TEST_PRIVATE_STOMP_PORT", 61626),
                management: port("WARREN_TEST_PRIVATE_MGMT_PORT", 15687),
                distribution: port("WARREN_TEST_PRIVATE_DIST_PORT", 25686)
            )
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let ports: Ports
    let root: URL
    let stateDirectory: URL
    /// How long one `scripts/broker` call may take.
    let scriptTimeout: Duration

    init(ports: Ports = .fromEnvironment, scriptTimeout: Duration = .seconds(120)) {
        self.ports = ports
        // Tests/IntegrationTests/Support/PrivateBroker.swift -> the checkout.
        self.root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        self.stateDirectory = self.root.appendingPathComponent(".warren/private-broker-\(ports.amqp)")
        self.scriptTimeout = scriptTimeout
    }

    /// Whether private-broker tests can run here: a broker is configured (or CI is set) and
    /// Debian's rabbitmq-server is installed (under CI a missing one is a failure at start).
    static var available: Bool {
        guard BrokerEnvironment.enabled else { return false }
        if BrokerEnvironment.isCI { return true }
        let lib = "/usr/lib/rabbitmq/lib"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return entries.contains { $0.hasPrefix("rabbitmq_server-") }
    }

    /// Starts a fresh node, runs `body`, and kills the node (and removes nothing else) afterwards,
    /// whether `body` returned or threw.
    static func with<T: Sendable>(ports: Ports = .fromEnvironment, _ body: (PrivateBroker) async throws -> T) async throws -> T {
        try await PortTurns.shared.take(ports.amqp)
        defer { PortTurns.shared.give(ports.amqp) }
        let broker = PrivateBroker(ports: ports)
        do {
            try await broker.start(fresh: true)
            let result = try await body(broker)
            try await broker.kill()
            return result
        } catch {
            try? await broker.kill()
            throw error
        }
    }

    /// The integration tests' AMQP configuration, pointed at this node.
    func configuration() throws -> AMQPConfiguration {
        var configuration = try AMQPTestSupport.configuration()
        configuration.port = self.ports.amqp
        configuration.connectionName = "AMQPClient integration test (private broker)"
        return configuration
    }

    /// Starts the node (waits until it and its plugins are up); `fresh` wipes its state first.
    func start(fresh: Bool = false) async throws {
        if fresh {
            // A node left behind by a crashed run would hold the ports: it is ours, kill it.
            _ = try? await self.run(["kill"])
        }
        try await self.run(["start"], fresh: fresh)
    }

    /// Stops the node gracefully (SIGTERM; durable queues and persistent messages survive).
    func stop() async throws {
        try await self.run(["stop"])
    }

    /// Kills the node at once (SIGKILL).
    func kill() async throws {
        try await self.run(["kill"])
    }

    /// Runs rabbitmqctl against the node and returns its output.
    @discardableResult
    func ctl(_ arguments: [String]) async throws -> String {
        try await self.run(["ctl"] + arguments)
    }

    /// Runs `scripts/broker ARGUMENTS` with this node's environment; throws on a non-zero exit
    /// or when it takes longer than ``scriptTimeout``, with the script's output in the error.
    @discardableResult
    private func run(_ arguments: [String], fresh: Bool = false) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["WARREN_BROKER_DIR"] = self.stateDirectory.path
        environment["WARREN_AMQP_PORT"] = String(self.ports.amqp)
        environment["WARREN_STOMP_WS_PORT"] = String(self.ports.stompWebSocket)
        environment["WARREN_STOMP_PORT"] = String(self.ports.stomp)
        environment["WARREN_MGMT_PORT"] = String(self.ports.management)
        environment["WARREN_DIST_PORT"] = String(self.ports.distribution)
        environment["WARREN_BROKER_FRESH"] = fresh ? "1" : "0"
        environment["WARREN_BROKER_TIMEOUT"] = "90"
        environment.removeValue(forKey: "WARREN_AMQPS_PORT")  // no TLS listener on this node
        return try await Self.runScript(
            root: self.root, arguments: arguments, environment: environment, logName: "private-broker-\(self.ports.amqp)", timeout: self.scriptTimeout
        )
    }

    /// Runs `scripts/broker ARGUMENTS` with `environment` (its output in a log file under
    /// `.warren/` while it runs); throws on a non-zero exit or past `timeout`, with the output.
    static func runScript(root: URL, arguments: [String], environment: [String: String], logName: String, timeout: Duration) async throws -> String {
        let folder = root.appendingPathComponent(".warren")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let logURL = folder.appendingPathComponent("\(logName)-\(arguments[0])-\(UUID().uuidString.prefix(8)).log")
        defer { try? FileManager.default.removeItem(at: logURL) }
        let script = root.appendingPathComponent("scripts/broker").path
        let child = try SpawnedProcess(
            executable: script,
            arguments: arguments,
            environment: environment,
            outputPath: logURL.path
        )
        let status = try await child.wait(timeout: timeout)
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        guard let status else {
            throw Failure(description: "scripts/broker \(arguments.joined(separator: " ")) did not finish within \(timeout): \(output.suffix(2000))")
        }
        guard status == 0 else {
            throw Failure(description: "scripts/broker \(arguments.joined(separator: " ")) exited with \(status): \(output.suffix(2000))")
        }
        return output
    }
}

/// Which private-broker ports are in use in this test process: suites on the same ports wait
/// for their turn (polling, bounded) rather than start a second node on them.
final class PortTurns: Sendable {
    static let shared = PortTurns()
    /// The longest wait for a turn: the slowest private-broker suite, with room to spare.
    static let patience: Duration = .seconds(1200)
    private let taken = NIOLockedValueBox<Set<Int>>([])

    /// Waits until nobody holds `port`, then holds it; throws after ``patience`` or on cancellation.
    func take(_ port: Int) async throws {
        let deadline = ContinuousClock.now + Self.patience
        while !self.taken.withLockedValue({ $0.insert(port).inserted }) {
            guard ContinuousClock.now < deadline else {
                throw PrivateBroker.Failure(description: "port \(port) stayed in use by another private-broker suite for \(Self.patience)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Lets the next suite have `port`.
    func give(_ port: Int) {
        _ = self.taken.withLockedValue { $0.remove(port) }
    }
}

/// A child process started with posix_spawn and reaped with waitpid.
///
/// Not Foundation.Process: on Linux it learns that a child ended when a socket the child
/// inherited is closed, and `scripts/broker start` leaves the Erlang VM running in the
/// background holding every descriptor it inherited, so the end of the script is never
/// reported. Here the child gets only stdin (/dev/null) and stdout and stderr (a log file);
/// every other descriptor is closed in it.
private struct SpawnedProcess {
    let pid: pid_t

    init(executable: String, arguments: [String], environment: [String: String], outputPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // Every descriptor above 2 is closed before the script runs (posix_spawn has no
        // closefrom in Swift's Glibc module), so the background node holds nothing of ours.
        let closeAndExec = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exec "$0" "$@""#
        let argv = (["/bin/bash", "-c", closeAndExec, executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp)
        guard result == 0 else {
            throw PrivateBroker.Failure(description: "posix_spawn \(executable) failed: \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// The exit status (128 + signal for a signal), or nil when the child outlived `timeout`
    /// (it is then killed and reaped).
    func wait(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let reaped = waitpid(self.pid, &status, WNOHANG)
            if reaped == self.pid {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if reaped == -1, errno != EINTR {
                throw PrivateBroker.Failure(description: "waitpid failed: \(String(cString: strerror(errno)))")
            }
            if ContinuousClock.now >= deadline {
                kill(self.pid, SIGKILL)
                _ = waitpid(self.pid, &status, 0)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
