import Foundation
import Logging
import NIOConcurrencyHelpers
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

    /// Rooms mode at its smallest: 4 tabs in one room, then in 2 rooms of 2, each post in
    /// every tab of its room and in no other; the membership probe adds and removes bindings.
    @Test(.enabled(if: ChatBenchTests.chatBenchProgram != nil, "no chat-bench program beside the test binary"))
    func theQuickBenchInRoomsModeDeliversEachPostToItsRoomOnly() async throws {
        var options = ChatBenchOptions.quick(url: BrokerEnvironment.amqpURL.absoluteString)
        options.tabCounts = [4]
        options.rooms = 2
        options.membershipProbe = 2
        options.loginExecutable = ChatBenchTests.chatBenchProgram
        var logger = Logger(label: "warren.test.bench")
        logger.logLevel = .warning
        let probes = NIOLockedValueBox<[MembershipCost]>([])
        let results = try await ChatBench(options: options, logger: logger).run(membership: { cost in probes.withLockedValue { $0.append(cost) } })

        let inRooms = results.filter { $0.rooms == 2 }
        #expect(results.filter { $0.rooms == 1 }.count == 8)
        #expect(inRooms.count == 6, "paced and full; bare, bare with confirms and login (the relay forwards to general only)")
        for result in results {
            #expect(result.error == nil, "\(result.rooms) rooms, \(result.load) \(result.path): \(result.error ?? "")")
            #expect(result.deliveries == result.posts * 4 / result.rooms, "\(result.rooms) rooms, \(result.load) \(result.path)")
            #expect(result.misrouted == 0)
            #expect(result.isComplete)
        }
        let probe = try #require(probes.withLockedValue { $0 }.first)
        #expect(probes.withLockedValue { $0 }.count == 1)
        #expect(probe.people == 4)
        #expect(probe.bindings == 8)
        #expect(probe.bindSeconds > 0 && probe.unbindSeconds > 0)
        #expect(ChatBenchReport.table(results).contains("| 4 | 2 of 2 |"))
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

/// The rooms mode's bookkeeping, without a broker.
struct DeliveryTrackerRoomsTests {
    @Test func aPostCountsInTheTabsOfItsRoomAndADeliveryElsewhereIsMisrouted() {
        // 4 tabs in 2 rooms: tabs 0 and 2 in room 0, tabs 1 and 3 in room 1; post 0 in room 0.
        let tracker = DeliveryTracker(posts: 2, tabs: 4, rooms: 2)
        tracker.sending(0, at: 1)
        tracker.sending(1, at: 1)
        tracker.delivered(0, tab: 0, at: 2)
        tracker.delivered(0, tab: 1, at: 2)  // room 1's tab: misrouted
        tracker.delivered(0, tab: 2, at: 3)
        tracker.delivered(0, tab: 2, at: 3)  // twice
        tracker.delivered(1, tab: 1, at: 4)
        #expect(!tracker.isComplete)
        tracker.delivered(1, tab: 3, at: 5)
        #expect(tracker.isComplete)
        let snapshot = tracker.snapshot()
        #expect(snapshot.delivered == 4)
        #expect(snapshot.misrouted == 1)
        #expect(snapshot.duplicates == 1)
        let result = ChatBenchResult(tabs: 4, load: .full, path: .bare, round: 1, target: nil, window: 2, snapshot: snapshot, error: nil)
        #expect(result.expectedDeliveries == 4)
        #expect(!result.isComplete, "a misrouted delivery fails the phase")
    }

    @Test func theBrokersResidentMemoryIsReadFromItsStatus() {
        #expect(ProcessMemory.parseStatus("Name:\tbeam.smp\nVmRSS:\t  123456 kB\nThreads:\t40\n") == 123_456 * 1024)
        #expect(ProcessMemory.parseStatus("Name:\tx\n") == nil)
        #expect(ProcessMemory.residentBytes(pid: getpid()) ?? 0 > 0)
    }

    @Test func theBrokersOwnAccountingIsReadFromAnErlangTuple() {
        #expect(BrokerMemory.parse("{69421616,4112264}\n") == BrokerMemory.Reading(total: 69_421_616, ets: 4_112_264))
        #expect(BrokerMemory.parse("warning: something\n{1, 2}") == BrokerMemory.Reading(total: 1, ets: 2))
        #expect(BrokerMemory.parse("{badrpc,nodedown}") == nil)
        #expect(BrokerMemory.parse("") == nil)
    }
}
