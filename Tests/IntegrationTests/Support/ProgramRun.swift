import Foundation
import Testing

/// One run of a program the package builds (``BuiltProgram``), as a person runs it: in a
/// folder of its own (so no `.env` of the checkout is read), with the environment given on top
/// of the test's, its output kept, killed when it takes longer than `seconds` (scaled), or
/// (for a program that runs until stopped) terminated as soon as its output satisfies `until`.
struct ProgramRun: Sendable {
    var status: Int32
    var output: String
    var errors: String

    static func run(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], within seconds: Double = 60,
        until done: (@Sendable (String) -> Bool)? = nil
    ) async throws -> ProgramRun {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("stdout")
        let errors = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(BuiltProgram.path(program), "no \(program) beside the test binary"))
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(seconds))
        while process.isRunning, ContinuousClock.now < deadline {
            if let done, done((try? String(contentsOf: output, encoding: .utf8)) ?? "") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return ProgramRun(
            status: process.terminationStatus,
            output: try String(contentsOf: output, encoding: .utf8),
            errors: try String(contentsOf: errors, encoding: .utf8)
        )
    }

    /// Everything it printed, for failure messages.
    var transcript: String { "status \(self.status)\nstdout:\n\(self.output)\nstderr:\n\(self.errors)" }
}
