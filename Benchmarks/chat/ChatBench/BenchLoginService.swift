import AMQPClient
import Foundation
import Logging
import WarrenCore
import WarrenServices
import WarrenStore

/// The environment variable that gives the login service's child process the broker URL.
public let loginServiceURLVariable = "WARREN_BENCH_LOGIN_URL"

/// The login service under measurement: the real `LoginRole`, either in this process on a
/// connection of its own, or in a child process (`chat-bench --login-service`) as in a
/// deployment, where it does not share the cooperative thread pool with the tabs' consumers.
enum BenchLoginService {
    case inProcess(AMQPConnection, Task<Void, Never>)
    case child(Process, Pipe)

    /// Starts the service for `configuration`'s prefix; in a child process when `executable`
    /// names the chat-bench program. With `rooms`, it reads the rooms from that store.
    static func start(
        configuration: WarrenConfiguration, amqp: AMQPConfiguration, options: ChatBenchOptions, store rooms: BenchRooms?, logger: Logger
    ) async throws -> BenchLoginService {
        if let executable = options.loginExecutable {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--login-service", "--prefix", configuration.topology.prefix, "--prefetch", "\(options.loginPrefetch)"]
            if let memory = options.sessionMemory {
                process.arguments! += ["--session-memory", "\(memory.inSeconds)"]
            }
            if let rooms { process.arguments! += ["--database", rooms.url] }
            if options.metricsPath { process.arguments! += ["--metrics", "switch"] }
            // The URL (it holds the password) goes by the environment, not the command line.
            var environment = ProcessInfo.processInfo.environment
            environment[loginServiceURLVariable] = options.url
            process.environment = environment
            // The child ends when this pipe closes, so it never outlives the benchmark.
            let input = Pipe()
            process.standardInput = input
            do {
                try process.run()
            } catch {
                throw ChatBenchError("cannot start the login service process \(executable): \(error)")
            }
            return .child(process, input)
        }
        var loginAMQP = amqp
        loginAMQP.connectionName = "chat-bench login service"
        let connection = try await AMQPConnection.connect(configuration: loginAMQP, logger: logger)
        let role = LoginRole(
            configuration: configuration, logger: logger, prefetch: options.loginPrefetch, sessionMemory: options.sessionMemory,
            rooms: rooms?.store.rooms
        )
        let prefetch = options.loginPrefetch
        let task = Task {
            do {
                try await Self.runServices(role: role, connection: connection, topology: configuration.topology, prefetch: prefetch)
            } catch {
                logger.debug("login service ended", metadata: ["error": "\(error)"])
            }
        }
        return .inProcess(connection, task)
    }

    /// The child process's pid, nil when the service runs in this process.
    var childPID: Int32? {
        if case .child(let process, _) = self { return process.processIdentifier }
        return nil
    }

    /// Turns the child's metrics on or off (``MetricsSwitch``; `--metrics`).
    func switchMetrics(on: Bool) {
        guard case .child(_, let input) = self else { return }
        try? input.fileHandleForWriting.write(contentsOf: Data(((on ? MetricsSwitch.onCommand : MetricsSwitch.offCommand) + "\n").utf8))
    }

    /// Stops the service and waits until it has ended.
    func stop() async {
        switch self {
        case .inProcess(let connection, let task):
            try? await connection.close()
            await task.value
        case .child(let process, let input):
            try? input.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            // Bounded: a child that ignores SIGTERM is not waited for beyond 10 s.
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// The child's side: runs the login service for `prefix` until standard input closes; with
    /// `databaseURL`, on the rooms of that store.
    static func serve(
        url: String, prefix: String, prefetch: UInt16, sessionMemory: Duration?, databaseURL: String?, metrics: Bool, logger: Logger
    ) async throws {
        let configuration: WarrenConfiguration
        var amqp: AMQPConfiguration
        do {
            configuration = try ChatBench.configuration(url: url, prefix: prefix)
            // On a cluster it connects to the first node, as the benchmark's set-up does.
            amqp = try AMQPConfiguration(urlList: configuration.amqpURL)
        } catch {
            throw ChatBenchError("bad broker URL \(url): \(error)")
        }
        amqp.connectionName = "chat-bench login service"
        amqp.connectionTimeout = .seconds(10)
        // Closed by the process's exit, as the connection is.
        var store: Store?
        if let databaseURL { store = try await Store.open(url: databaseURL, logger: logger) }
        let connection = try await AMQPConnection.connect(configuration: amqp, logger: logger)
        let role = LoginRole(configuration: configuration, logger: logger, prefetch: prefetch, sessionMemory: sessionMemory, rooms: store?.rooms)
        // Standard input is the parent's pipe: when it closes (the benchmark ended, however),
        // so does this process. With `metrics`, it also carries the switch's commands.
        let metricsSwitch = metrics ? MetricsSwitch.install() : nil
        Thread.detachNewThread {
            var pending = ""
            while case let data = FileHandle.standardInput.availableData, !data.isEmpty {
                pending += String(decoding: data, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    _ = metricsSwitch?.handle(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                }
            }
            exit(0)
        }
        try await Self.runServices(role: role, connection: connection, topology: configuration.topology, prefetch: prefetch)
    }

    /// The login service and, beside it on the same connection, the relay path's relay.
    private static func runServices(role: LoginRole, connection: AMQPConnection, topology: Topology, prefetch: UInt16) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await role.run(on: connection) }
            group.addTask { try await BenchRelay.run(on: connection, topology: topology, prefetch: prefetch) }
            try await group.waitForAll()
        }
    }
}

extension ChatBench {
    /// The child process's side of ``ChatBenchOptions/loginExecutable``: runs the real login
    /// service for the topology `prefix` until standard input closes (the benchmark ended); with
    /// `databaseURL` (rooms mode), on the rooms of that store.
    /// - Throws: ``ChatBenchError`` on a bad URL; the connection's or the store's error when it fails.
    public static func serveLoginService(
        url: String, prefix: String, prefetch: UInt16, sessionMemory: Duration?, databaseURL: String? = nil, metrics: Bool = false, logger: Logger
    ) async throws {
        try await BenchLoginService.serve(
            url: url, prefix: prefix, prefetch: prefetch, sessionMemory: sessionMemory, databaseURL: databaseURL, metrics: metrics, logger: logger
        )
    }
}
