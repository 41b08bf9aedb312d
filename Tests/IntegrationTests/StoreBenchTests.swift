import Foundation
import Testing

/// Runs `scripts/bench history`'s program at its smallest against the test broker, so the
/// benchmark cannot rot: its end-to-end backfill logs tabs in through the real login and history
/// roles, which once refused every login when the default configuration started checking user
/// ids. Nothing about speed.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct StoreBenchTests {
    static let program = BuiltProgram.path("store-bench")

    @Test(.enabled(if: StoreBenchTests.program != nil, "no store-bench program beside the test binary"))
    func theSmallestRunMeasuresTheBackfillEndToEnd() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("output.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.program))
        process.arguments = [
            "--events", "200", "--seconds", "5", "--samples", "10", "--logins", "2",
            "--dir", folder.path, "--amqp-url", BrokerEnvironment.amqpURL.absoluteString,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["WARREN_BENCH_DATABASE_URL"] = nil  // SQLite only
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(60))
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()

        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "store-bench: \(text)")
        for op in ["store-latest50", "history-rpc-latest50", "login-to-50th-backfilled"] {
            let line = text.split(separator: "\n").first { $0.contains("\"op\":\"\(op)\"") }
            #expect(line != nil, "no \(op) figure in: \(text)")
            #expect(line?.contains("\"store\":\"sqlite\"") == true)
        }
    }
}
