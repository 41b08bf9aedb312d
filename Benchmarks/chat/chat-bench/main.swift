// The chat benchmark (Benchmarks/chat/README.md): N tabs, posts through the login service and
// straight to the room fanout, latency in every tab and the delivery rate. Prints one JSON line
// per phase on stdout as it is measured, then a Markdown table and the verdict on the targets.
// Progress and errors go to stderr. Exit 1 when a phase lost deliveries or the set-up failed,
// 2 on bad arguments.
import ChatBench
import Foundation
import Logging
import NIOConcurrencyHelpers

let usage = """
    usage: chat-bench [--url URL] [--tabs 10,50,200] [--paced-rate DELIVERIES_PER_S]
                      [--paced-seconds S] [--full-deliveries N] [--window POSTS]
                      [--prefetch N] [--session-memory S] [--in-process] [--rounds N] [--timeout S] [--no-bare-confirms] [--no-relay]
                      [--rooms R] [--membership-probe K] [--metrics] [--quick]
                      [--node-loss COMMAND --node-loss-node N [--node-loss-rate R] [--node-loss-seconds S] [--node-loss-after S]]

      --url              broker (default $WARREN_AMQP_URL, else amqp://warren:warren@127.0.0.1:5716/warren)
      --tabs             tab counts, one run each (default 10,50,200)
      --paced-rate       paced load in deliveries/s; posts/s = this / tabs, at least 1 (default 2000)
      --paced-seconds    how long the paced phase posts (default 4)
      --full-deliveries  deliveries per full-speed phase; posts = this / tabs, at least 50 (default 400000)
      --window           posts in flight at most, below the tab queues' x-max-length 1000
                         (default min(256, max(16, 20000 / tabs)))
      --prefetch         the login service's prefetch (default: the role's, 256)
      --session-memory   seconds the login service trusts a session queue it declared or saw
                         (default: WARREN_SESSION_MEMORY_MS's, 30); 0 asks the broker on every post
      --in-process       run the login service in this process (default: a child process,
                         chat-bench --login-service, as a deployment runs it)
      --rounds           measure each (tabs, load) this many times (default 1)
      --timeout          seconds any phase or set-up step may take (default 120)
      --no-bare-confirms skip the path bare with publisher confirms
      --no-relay         skip the relay path (posts through a queue and a relay that only
                         forwards them, with the login service's confirms and acks)
      --rooms            rooms mode: each tab count runs in one room, then in R rooms of tabs / R
                         (one person per tab; every post to one room; the rates asked are per
                         delivery, so both layouts get the same deliveries/s); tab counts must be
                         multiples of R (default 0: one room only)
      --membership-probe in rooms mode, K more room bindings per person made and removed after
                         the phases: their time and the broker's memory per binding (default 10; 0 skips)
      --metrics          also run the login path with Warren's metrics recorded (login+metrics), right
                         after the login path without, in the same login-service process
      --quick            smoke check: 3 tabs, a few dozen posts (other options still apply after it)
      --node-loss        node-loss mode, on a cluster (--url lists its nodes), instead of the phases: the
                         shared queues are declared on node N (--node-loss-node, 2 or more), which
                         COMMAND (a shell command, e.g. "scripts/broker cluster kill 2") takes away
                         --node-loss-after seconds (default 10) into posting --node-loss-rate posts/s
                         (default 20) for --node-loss-seconds (default 30) through the login path;
                         prints how long until posts reached every tab on the other nodes again
    """

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("chat-bench: \(message)\n".utf8))
    exit(code)
}

func parse(_ arguments: [String]) -> ChatBenchOptions {
    let url = ProcessInfo.processInfo.environment["WARREN_AMQP_URL"] ?? "amqp://warren:warren@127.0.0.1:5716/warren"
    var options = ChatBenchOptions(url: url)
    var iterator = arguments.makeIterator()
    var inProcess = false
    var nodeLoss = NodeLossOptions(command: "", node: 0)
    func value(_ name: String) -> String {
        guard let value = iterator.next() else { fail("\(name) wants a value\n\(usage)", code: 2) }
        return value
    }
    func number<T: LosslessStringConvertible>(_ name: String) -> T {
        let text = value(name)
        guard let number = T(text) else { fail("\(name): not a number: \(text)", code: 2) }
        return number
    }
    while let argument = iterator.next() {
        switch argument {
        case "--url": options.url = value(argument)
        case "--tabs":
            let text = value(argument)
            let counts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 != nil }) else { fail("--tabs: a comma list of numbers, not \(text)", code: 2) }
            options.tabCounts = counts.map { $0! }
        case "--paced-rate": options.pacedDeliveriesPerSecond = number(argument)
        case "--paced-seconds": options.pacedSeconds = number(argument)
        case "--full-deliveries": options.fullDeliveries = number(argument)
        case "--window": options.window = number(argument)
        case "--prefetch": options.loginPrefetch = number(argument)
        case "--in-process": inProcess = true
        case "--session-memory":
            let seconds: Double = number(argument)
            guard seconds >= 0, seconds <= 3600 else { fail("--session-memory: 0 to 3600 seconds, not \(seconds)", code: 2) }
            options.sessionMemory = .seconds(seconds)
        case "--rounds": options.rounds = number(argument)
        case "--timeout": options.timeoutSeconds = number(argument)
        case "--no-bare-confirms": options.bareWithConfirms = false
        case "--no-relay": options.relayPath = false
        case "--rooms": options.rooms = number(argument)
        case "--membership-probe": options.membershipProbe = number(argument)
        case "--metrics": options.metricsPath = true
        case "--node-loss": nodeLoss.command = value(argument)
        case "--node-loss-node": nodeLoss.node = number(argument)
        case "--node-loss-rate": nodeLoss.postsPerSecond = number(argument)
        case "--node-loss-seconds": nodeLoss.seconds = number(argument)
        case "--node-loss-after": nodeLoss.after = number(argument)
        case "--quick":
            var quick = ChatBenchOptions.quick(url: options.url)
            quick.loginPrefetch = options.loginPrefetch
            quick.sessionMemory = options.sessionMemory
            quick.bareWithConfirms = options.bareWithConfirms
            quick.relayPath = options.relayPath
            quick.rooms = options.rooms
            quick.membershipProbe = options.membershipProbe
            quick.metricsPath = options.metricsPath
            options = quick
        case "-h", "--help":
            print(usage)
            exit(0)
        default: fail("unknown argument \(argument)\n\(usage)", code: 2)
        }
    }
    if !nodeLoss.command.isEmpty { options.nodeLoss = nodeLoss }
    if !inProcess {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            fail("cannot find this program's path (/proc/self/exe) to run the login service; pass --in-process", code: 2)
        }
        options.loginExecutable = path
    }
    do {
        try options.validate()
    } catch {
        fail("\(error)", code: 2)
    }
    return options
}

/// `chat-bench --login-service --prefix P --prefetch N [--session-memory S]`, the broker URL in
/// $WARREN_BENCH_LOGIN_URL: the login service of one benchmark run, in the child process the
/// benchmark starts (not for use by hand).
func serveLoginService(_ arguments: [String], logger: Logger) async -> Never {
    var values: [String: String] = [:]
    var index = 0
    while index + 1 < arguments.count {
        values[arguments[index]] = arguments[index + 1]
        index += 2
    }
    guard let url = ProcessInfo.processInfo.environment[loginServiceURLVariable], let prefix = values["--prefix"], let prefetch = values["--prefetch"].flatMap(UInt16.init)
    else { fail("--login-service wants --prefix, --prefetch and $\(loginServiceURLVariable)", code: 2) }
    let memory: Duration?
    switch values["--session-memory"] {
    case nil: memory = nil
    case let text?:
        guard let seconds = Double(text) else { fail("--session-memory: not a number: \(text)", code: 2) }
        memory = .seconds(seconds)
    }
    do {
        try await ChatBench.serveLoginService(
            url: url, prefix: prefix, prefetch: prefetch, sessionMemory: memory, databaseURL: values["--database"],
            metrics: values["--metrics"] == "switch", logger: logger
        )
    } catch {
        fail("login service: \(error)", code: 1)
    }
    exit(0)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = ProcessInfo.processInfo.environment["WARREN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
    return handler
}
let logger = Logger(label: "warren.bench.chat")
if CommandLine.arguments.dropFirst().first == "--login-service" {
    await serveLoginService(Array(CommandLine.arguments.dropFirst(2)), logger: logger)
}
let options = parse(Array(CommandLine.arguments.dropFirst()))

/// Prints one JSON line at once (also through a pipe).
func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
    fflush(nil)
}

let results: [ChatBenchResult]
let probes = NIOLockedValueBox<[MembershipCost]>([])
let losses = NIOLockedValueBox<[NodeLossResult]>([])
do {
    results = try await ChatBench(options: options, logger: logger).run(
        measured: { printJSON($0) },
        membership: { cost in
            printJSON(cost)
            probes.withLockedValue { $0.append(cost) }
        },
        nodeLoss: { loss in
            printJSON(loss)
            losses.withLockedValue { $0.append(loss) }
        }
    )
} catch {
    fail("\(error)", code: 1)
}
if options.nodeLoss != nil {
    let measured = losses.withLockedValue { $0 }
    print("")
    for loss in measured { print("- \(loss.summary)") }
    exit(measured.allSatisfy { $0.error == nil } ? 0 : 1)
}
print("")
print(ChatBenchReport.table(results))
print("")
if let cpu = ChatBenchReport.cpuTable(results, cores: ProcessInfo.processInfo.activeProcessorCount) {
    print("CPU time of the full-speed phases (from /proc; the service process, the login service's or the relay's, on their paths):")
    print("")
    print(cpu)
    print("")
}
for line in ChatBenchReport.verdict(results) { print("- \(line)") }
for probe in probes.withLockedValue({ $0 }) { print("- \(probe.summary)") }
exit(results.allSatisfy(\.isComplete) ? 0 : 1)
