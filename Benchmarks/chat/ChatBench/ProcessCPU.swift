import Foundation

/// CPU time (user + system) of the processes a phase involves, read from Linux's
/// `/proc/<pid>/stat`, so a phase's figures can say where the machine's work went: the broker,
/// the benchmark itself (the poster and the tabs), and the login service's child process.
struct ProcessCPU: Sendable {
    /// The broker's process (beam.smp), from `$WARREN_BENCH_BROKER_PID`; nil when not given.
    let broker: Int32?
    /// The login service's child process; nil when it runs in this process.
    let loginService: Int32?

    /// One reading of every process's CPU seconds so far (nil where unreadable).
    struct Reading: Sendable {
        var broker: Double?
        var bench: Double?
        var loginService: Double?
    }

    func read() -> Reading {
        Reading(
            broker: self.broker.flatMap(Self.seconds(pid:)),
            bench: Self.seconds(pid: getpid()),
            loginService: self.loginService.flatMap(Self.seconds(pid:))
        )
    }

    /// The broker's pid named by the environment, if it is a number.
    static var brokerFromEnvironment: Int32? {
        ProcessInfo.processInfo.environment["WARREN_BENCH_BROKER_PID"].flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// User + system CPU seconds of `pid`, nil when it cannot be read (not Linux, gone).
    static func seconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parseStat(text)
    }

    /// utime + stime of a `/proc/<pid>/stat` line, in seconds. The command name (field 2) is in
    /// parentheses and may hold spaces, so fields are counted after its closing parenthesis:
    /// state is field 3, utime 14, stime 15.
    static func parseStat(_ text: String, ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))) -> Double? {
        guard let close = text.lastIndex(of: ")"), ticksPerSecond > 0 else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }
}

extension ProcessCPU.Reading {
    /// What was used from `start` to this reading; nil where either side is unknown.
    func since(_ start: ProcessCPU.Reading) -> ProcessCPU.Reading {
        func difference(_ end: Double?, _ begin: Double?) -> Double? {
            guard let end, let begin else { return nil }
            return max(0, end - begin)
        }
        return ProcessCPU.Reading(
            broker: difference(self.broker, start.broker),
            bench: difference(self.bench, start.bench),
            loginService: difference(self.loginService, start.loginService)
        )
    }
}
