import AMQPClient
import Foundation
import Logging
import WarrenCore

/// What membership costs the broker, measured in rooms mode after the phases: every person of
/// the run gets `perPerson` more room bindings (`<prefix>.rooms` → `<prefix>.u.<login>`, key
/// `room.probe<k>`, as a join makes), one at a time as the web role's joins are, and loses them
/// again. The broker's memory is read before and with them: its own accounting after a garbage
/// collection (total, and ETS, the tables routes live in), through the command
/// `$WARREN_BENCH_BROKER_MEMORY` that `scripts/bench chat` sets for the broker it starts
/// (`rabbitmqctl eval`, printing `{Total, Ets}`), and its resident memory (from `/proc`, by
/// `$WARREN_BENCH_BROKER_PID`), which is coarse: Erlang keeps memory it freed.
public struct MembershipCost: Sendable, Codable, Equatable {
    /// People (one tab each) who got the bindings.
    public var people: Int
    /// Bindings made, and then removed.
    public var bindings: Int
    /// How long making them took.
    public var bindSeconds: Double
    /// How long removing them took.
    public var unbindSeconds: Double
    /// The broker's resident memory before, in bytes (nil: not read).
    public var brokerRSSBefore: Int?
    /// The broker's resident memory with the bindings, in bytes.
    public var brokerRSSWith: Int?
    /// The broker's own accounting before (nil: not read).
    public var brokerMemoryBefore: BrokerMemory.Reading?
    /// The broker's own accounting with the bindings.
    public var brokerMemoryWith: BrokerMemory.Reading?

    /// Bytes per binding of `before` to `with`; nil without both.
    func perBinding(_ before: Int?, _ with: Int?) -> Double? {
        guard let before, let with, self.bindings > 0 else { return nil }
        return Double(with - before) / Double(self.bindings)
    }

    /// One readable line.
    public var summary: String {
        var line = "membership: \(ChatBenchReport.number(Double(self.bindings))) room bindings for \(self.people) people"
        line += String(format: " made in %.1f s (%@/s), removed in %.1f s", self.bindSeconds,
                       ChatBenchReport.number(Double(self.bindings) / max(self.bindSeconds, 1e-9)), self.unbindSeconds)
        func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        if let before = self.brokerMemoryBefore, let with = self.brokerMemoryWith {
            let ets = self.perBinding(before.ets, with.ets) ?? 0
            let total = self.perBinding(before.total, with.total) ?? 0
            line += "; broker memory (Erlang's, after a GC) \(mebibytes(before.total)) → \(mebibytes(with.total)), ETS \(mebibytes(before.ets)) → \(mebibytes(with.ets)): "
            line += String(format: "%.0f bytes per binding in ETS, %.0f in all", ets, total)
        } else {
            line += "; broker memory not read (no WARREN_BENCH_BROKER_MEMORY)"
        }
        if let before = self.brokerRSSBefore, let with = self.brokerRSSWith {
            line += "; RSS \(mebibytes(before)) → \(mebibytes(with))"
        }
        return line
    }
}

extension ChatBench {
    /// Measures ``MembershipCost`` with `perPerson` extra bindings for every tab's person.
    func membershipCost(_ chat: Chat, perPerson: Int) async throws -> MembershipCost {
        let people = chat.tabs.tabs.map(\.login)
        let channel = chat.poster
        let topology = chat.topology
        let broker = ProcessCPU.brokerFromEnvironment
        self.logger.notice("membership probe", metadata: ["people": "\(people.count)", "bindings": "\(people.count * perPerson)"])
        try await Task.sleep(for: .seconds(2))  // let the phases' garbage go
        let accountingBefore = await BrokerMemory.read(timeout: self.options.timeoutSeconds, logger: self.logger)
        let before = broker.flatMap(ProcessMemory.residentBytes(pid:))
        var started = ContinuousClock.now
        try await withDeadline(.seconds(self.options.timeoutSeconds), "making the probe's bindings") {
            for person in people {
                for room in 0..<perPerson {
                    try await channel.exchangeBind(
                        destination: topology.person(person), source: topology.rooms, routingKey: Topology.roomKey("probe\(room)")
                    )
                }
            }
        }
        let bindSeconds = (ContinuousClock.now - started).inSeconds
        try await Task.sleep(for: .seconds(2))
        let accountingWith = await BrokerMemory.read(timeout: self.options.timeoutSeconds, logger: self.logger)
        let with = broker.flatMap(ProcessMemory.residentBytes(pid:))
        started = ContinuousClock.now
        try await withDeadline(.seconds(self.options.timeoutSeconds), "removing the probe's bindings") {
            for person in people {
                for room in 0..<perPerson {
                    try await channel.exchangeUnbind(
                        destination: topology.person(person), source: topology.rooms, routingKey: Topology.roomKey("probe\(room)")
                    )
                }
            }
        }
        return MembershipCost(
            people: people.count, bindings: people.count * perPerson, bindSeconds: bindSeconds,
            unbindSeconds: (ContinuousClock.now - started).inSeconds, brokerRSSBefore: before, brokerRSSWith: with,
            brokerMemoryBefore: accountingBefore, brokerMemoryWith: accountingWith
        )
    }
}

/// Resident memory of a process, from Linux's `/proc/<pid>/status`.
enum ProcessMemory {
    /// VmRSS in bytes; nil when it cannot be read.
    static func residentBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseStatus(text)
    }

    /// The `VmRSS:  1234 kB` line of a status file, in bytes.
    static func parseStatus(_ text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}

/// The broker's own memory accounting, read by running `$WARREN_BENCH_BROKER_MEMORY` (a shell
/// command printing `{Total, Ets}` in bytes, as `rabbitmqctl eval` prints an Erlang tuple).
public enum BrokerMemory {
    /// One reading.
    public struct Reading: Sendable, Codable, Equatable {
        /// `erlang:memory(total)`.
        public var total: Int
        /// `erlang:memory(ets)`: the tables that hold, among the rest, every binding.
        public var ets: Int
    }

    /// The command, when the environment names one.
    static var command: String? {
        ProcessInfo.processInfo.environment["WARREN_BENCH_BROKER_MEMORY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs the command, at most `timeout` seconds; nil without one, or when it fails.
    static func read(timeout: Double, logger: Logger) async -> Reading? {
        guard let command else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            logger.warning("cannot run the broker memory command", metadata: ["error": "\(error)"])
            return nil
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0, let reading = parse(text) else {
            logger.warning("the broker memory command failed", metadata: ["status": "\(process.terminationStatus)", "output": "\(text.prefix(200))"])
            return nil
        }
        return reading
    }

    /// `{69421616,4112264}` (the last such tuple in the text).
    static func parse(_ text: String) -> Reading? {
        guard let open = text.lastIndex(of: "{"), let close = text[open...].firstIndex(of: "}") else { return nil }
        let numbers = text[text.index(after: open)..<close].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 2, let total = numbers[0], let ets = numbers[1] else { return nil }
        return Reading(total: total, ets: ets)
    }
}
