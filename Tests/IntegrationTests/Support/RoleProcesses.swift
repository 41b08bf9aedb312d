import Foundation

/// Warren's back-end roles as processes of their own, each a `warren ROLE` of a given binary
/// (e.g. a release build), as production runs them: for the chaos drill at rates an in-process
/// debug build cannot carry (`WARREN_TEST_CLUSTER_DRILL_WARREN`). Each process gets the test's
/// environment with `environment` on top, runs in a folder of its own (no `.env` is read) and
/// writes its output to a log file there, which stays for a look after the run; ``stop()`` ends
/// them (SIGTERM, then SIGKILL).
/// Unchecked Sendable: the list never changes, and `Process` may be asked from any thread.
final class RoleProcesses: @unchecked Sendable {
    private let processes: [(role: String, process: Process)]
    let folder: URL

    private init(processes: [(String, Process)], folder: URL) {
        self.processes = processes
        self.folder = folder
    }

    /// Starts `warren ROLE` for each of `roles` with `program`.
    static func start(program: String, roles: [String], environment: [String: String]) throws -> RoleProcesses {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-roles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var started: [(String, Process)] = []
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        for role in roles {
            let log = folder.appendingPathComponent("\(role).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = [role]
            process.currentDirectoryURL = folder
            process.environment = merged
            process.standardInput = FileHandle.nullDevice
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            do {
                try process.run()
            } catch {
                for (_, running) in started { running.terminate() }
                throw error
            }
            started.append((role, process))
        }
        return RoleProcesses(processes: started, folder: folder)
    }

    /// Roles whose process ended (crashed or gave up), with their exit status.
    var ended: [String] {
        self.processes.filter { !$0.process.isRunning }.map { "\($0.role) (status \($0.process.terminationStatus))" }
    }

    /// Stops every process: SIGTERM, up to `grace` to finish, then SIGKILL.
    func stop(grace: Duration = .seconds(20)) async {
        let processes = self.processes
        for (_, process) in processes where process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while processes.contains(where: { $0.process.isRunning }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        for (_, process) in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for (_, process) in processes { process.waitUntilExit() }
    }

    /// The last `lines` lines of each role's log, for failure messages.
    func logTail(lines: Int = 20) -> String {
        self.processes.map { role, _ in
            let text = (try? String(contentsOf: self.folder.appendingPathComponent("\(role).log"), encoding: .utf8)) ?? ""
            return "\(role):\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
