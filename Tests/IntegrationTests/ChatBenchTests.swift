import Foundation
import Logging
import Testing

@testable import ChatBench

/// Runs `scripts/bench chat`'s logic at its smallest, so the benchmark cannot rot: every post
/// must reach every tab in every phase, and every figure must be a number. Nothing about speed.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatBenchTests {
    static let chatBenchProgram = BuiltProgram.path("chat-bench")

    @Test func theQuickBenchDeliversEveryPostToEveryTab() async throws {
        try await self.runQuick(loginExecutable: nil)
    }

    /// As `scripts/bench chat` runs it: the login service in a child process
    /// (`chat-bench --login-service`), which once failed every login when the default
    /// configuration started checking user ids.
    @Test(.enabled(if: ChatBenchTests.chatBenchProgram != nil, "no chat-bench program beside the test binary"))
    func theQuickBenchWithTheLoginServiceInAChildProcess() async throws {
        try await self.runQuick(loginExecutable: ChatBenchTests.chatBenchProgram)
    }

    private func runQuick(loginExecutable: String?) async throws {
        var options = ChatBenchOptions.quick(url: BrokerEnvironment.amqpURL.absoluteString)
        options.tabCounts = [3]
        options.loginExecutable = loginExecutable
        var logger = Logger(label: "warren.test.bench")
        logger.logLevel = .warning
        let results = try await ChatBench(options: options, logger: logger).run()

        #expect(results.count == 8, "paced and full; bare, bare with confirms, relay and login")
        for load in [ChatBenchResult.Load.paced, .full] {
            for path in [ChatBenchResult.Path.bare, .bareConfirmed, .relay, .login] {
                #expect(results.contains { $0.load == load && $0.path == path }, "\(load) \(path)")
            }
        }
        for result in results {
            #expect(result.error == nil, "\(result.load) \(result.path): \(result.error ?? "")")
            #expect(result.posts >= options.minimumPosts)
            #expect(result.deliveries == result.posts * 3, "\(result.load) \(result.path): \(result.deliveries) deliveries")
            #expect(result.duplicates == 0)
            #expect(result.isComplete)
            #expect(result.figuresAreFinite)
            #expect(result.deliveriesPerSecond > 0 && result.p99Ms >= result.p50Ms)
        }
        for result in results {
            let cpu = try #require(result.cpu, "\(result.load) \(result.path): no CPU figures")
            #expect(cpu.benchSeconds != nil, "this process's /proc/self/stat is readable")
            if loginExecutable != nil, result.path == .login || result.path == .relay { #expect(cpu.loginServiceSeconds != nil) }
        }
        let cpuTable = try #require(ChatBenchReport.cpuTable(results, cores: 2))
        #expect(cpuTable.split(separator: "\n").count == 2 + results.filter { $0.load == .full }.count)
        let table = ChatBenchReport.table(results)
        #expect(table.split(separator: "\n").count == 2 + results.count)
        #expect(ChatBenchReport.verdict(results).count == 1)
    }
}

/// The CPU figures' parsing, without a broker.
struct ProcessCPUTests {
    @Test func aStatLineIsReadAfterTheCommandNameEvenWithSpacesAndParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        let line = "4242 (chat (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0"
        #expect(ProcessCPU.parseStat(line, ticksPerSecond: 100) == 3.0)
        #expect(ProcessCPU.parseStat("garbage", ticksPerSecond: 100) == nil)
        #expect(ProcessCPU.parseStat("1 (x) S 1 2", ticksPerSecond: 100) == nil)
    }

    @Test func thisProcessHasCPUTime() throws {
        let seconds = try #require(ProcessCPU.seconds(pid: getpid()))
        #expect(seconds >= 0)
    }
}
