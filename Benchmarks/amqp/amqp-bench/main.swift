// Throughput benchmark for Warren's AMQP client, to the contract in Benchmarks/amqp/README.md:
//   amqp-bench --url URL --messages N --size S --scenario SCENARIO [--queue QUEUE]
// Prints one JSON line on stdout; diagnostics go to stderr. Mirrors baseline.py's scenarios.
import AMQPClient
import Foundation
import NIOCore

struct Options {
    var url = ProcessInfo.processInfo.environment["WARREN_AMQP_URL"] ?? "amqp://warren:warren@127.0.0.1:5672/warren"
    var messages = 100_000
    var size = 100
    var scenario = "publish"
    var queue: String?
    var publishers = 512

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard let value = iterator.next() else { Self.fail("\(argument) wants a value") }
            switch argument {
            case "--url": url = value
            case "--messages", "-n": messages = Int(value) ?? { Self.fail("bad --messages \(value)") }()
            case "--size", "-s": size = Int(value) ?? { Self.fail("bad --size \(value)") }()
            case "--scenario": scenario = value
            case "--queue": queue = value
            case "--publishers": publishers = Int(value) ?? { Self.fail("bad --publishers \(value)") }()
            default: Self.fail("unknown option \(argument)")
            }
        }
        guard messages > 0, size >= 0, publishers > 0 else { Self.fail("--messages and --publishers must be positive, --size not negative") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("amqp-bench: \(message)\n".utf8))
        exit(2)
    }
}

func peakRSSKilobytes() -> Int {
    var usage = rusage()
    #if os(macOS)
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss)
    #endif
}

func now() -> Double { Date().timeIntervalSince1970 }

/// Polls a passive declare until the queue holds `count` messages (as baseline.py does).
func waitForDepth(_ channel: AMQPChannel, queue: String, count: Int) async throws {
    let limit = Date().addingTimeInterval(600)
    while true {
        let depth = try await channel.queueDeclare(queue, passive: true).messageCount
        if depth >= count { return }
        if Date() > limit { throw BenchError("queue \(queue) holds \(depth) of \(count) messages") }
        try await Task.sleep(for: .milliseconds(2))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func run(_ options: Options) async throws -> [String: Any] {
    var configuration = try AMQPConfiguration(url: options.url)
    configuration.connectionName = "amqp-bench \(options.scenario)"
    let connection = try await AMQPConnection.connect(configuration: configuration)
    let channel = try await connection.openChannel()
    let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: options.size)
    let n = options.messages
    var note: String?
    let start: Double
    let end: Double
    switch options.scenario {
    case "publish":
        let queue = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        note = "one awaited publish after another, then passive queue.declare polls until all are in the queue"
        start = now()
        for _ in 0..<n {
            try await channel.publish(body: body, routingKey: queue)
        }
        try await waitForDepth(channel, queue: queue, count: n)
        end = now()
    case "publish-confirm":
        let queue = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        try await channel.confirmSelect()
        let publishers = min(options.publishers, n)
        note = "confirm mode, \(publishers) concurrent publishing tasks (each awaits its confirm), at most \(configuration.maxOutstandingConfirms) confirms outstanding"
        start = now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<publishers {
                let count = n / publishers + (worker < n % publishers ? 1 : 0)
                group.addTask {
                    for _ in 0..<count {
                        try await channel.publish(body: body, routingKey: queue)
                    }
                }
            }
            try await group.waitForAll()
        }
        end = now()
    case "consume-noack", "consume-ack":
        guard let queue = options.queue else { Options.fail("\(options.scenario) needs --queue") }
        let noAck = options.scenario == "consume-noack"
        if !noAck {
            try await channel.basicQos(prefetchCount: 100)
            note = "prefetch 100, one basic.ack per message"
        } else {
            note = "no-ack, no prefetch limit"
        }
        var received = 0
        start = now()
        let consumer = try await channel.consume(queue: queue, noAck: noAck)
        for try await delivery in consumer {
            received += 1
            if !noAck { try await delivery.ack() }
            if received >= n { break }
        }
        end = now()
        guard received >= n else { throw BenchError("the consumer ended after \(received) of \(n) messages") }
        try await consumer.cancel()
    default:
        Options.fail("unknown scenario \(options.scenario)")
    }
    try await connection.close()
    let seconds = end - start
    var line: [String: Any] = [
        "client": "warren",
        "scenario": options.scenario,
        "messages": n,
        "size": options.size,
        "seconds": (seconds * 10_000).rounded() / 10_000,
        "msg_per_s": seconds > 0 ? (Double(n) / seconds * 10).rounded() / 10 : NSNull(),
        "peak_rss_kb": peakRSSKilobytes(),
        "start": (start * 10_000).rounded() / 10_000,
        "end": (end * 10_000).rounded() / 10_000,
    ]
    if let note { line["note"] = note }
    return line
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
do {
    let line = try await run(options)
    let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("amqp-bench: \(options.scenario) failed: \(error)\n".utf8))
    exit(1)
}
