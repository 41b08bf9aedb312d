import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
import WarrenCore
import WarrenStore

/// A store to measure.
enum BenchTarget {
    case sqlite
    case postgres(url: String)

    var name: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }
}

/// How events are written.
enum WriteMode: Equatable {
    /// One plain INSERT per event, each its own transaction, on a bare connection.
    case dbDirect
    /// `EventStore.insert` with batches of this size, one transaction each.
    case store(batch: Int)

    var name: String {
        switch self {
        case .dbDirect: "db_direct"
        case .store: "store"
        }
    }

    var batch: Int {
        switch self {
        case .dbDirect: 1
        case .store(let batch): batch
        }
    }
}

/// Runs the measurements for one target, each on an empty events table.
final class TargetRunner {
    let target: BenchTarget
    let options: BenchOptions
    let logger: Logger
    private let directory: URL
    private var lastStore: Store?

    private init(target: BenchTarget, options: BenchOptions, logger: Logger, directory: URL) {
        self.target = target
        self.options = options
        self.logger = logger
        self.directory = directory
    }

    static func make(_ target: BenchTarget, options: BenchOptions, logger: Logger) async throws -> TargetRunner {
        let directory = options.directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("warren-store-bench-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return TargetRunner(target: target, options: options, logger: logger, directory: directory)
    }

    /// Writes up to `options.events` events (or for `options.seconds`) and times it.
    func measureWrites(_ mode: WriteMode) async throws -> WriteResult {
        if let lastStore { await lastStore.close() }
        let store = try await freshStore(label: "\(mode.name)-\(mode.batch)")
        lastStore = store
        let events = EventFactory.make(count: options.events)
        let writer = try await makeWriter(mode, store: store)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(options.seconds))
        var written = 0
        let started = clock.now
        var index = 0
        while index < events.count, clock.now < deadline {
            let end = min(index + mode.batch, events.count)
            try await writer.write(Array(events[index..<end]))
            written += end - index
            index = end
        }
        let elapsed = started.duration(to: clock.now)
        await writer.close()
        let stored = try await store.events.count()
        guard stored == written else {
            throw BenchOptions.UsageError(description: "\(target.name) \(mode.name): wrote \(written) but \(stored) are stored")
        }
        return WriteResult(store: target.name, mode: mode.name, batch: mode.batch, events: written, seconds: elapsed.seconds)
    }

    /// Times `latest(limit:)` on the table the last write run left.
    func measureLatest(limit: Int) async throws -> ReadResult {
        guard let store = lastStore else { throw BenchOptions.UsageError(description: "no store to read") }
        let count = try await store.events.count()
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(options.samples)
        for _ in 0..<options.samples {
            let started = clock.now
            let events = try await store.events.latest(limit: limit)
            samples.append(started.duration(to: clock.now).seconds * 1_000)
            guard events.count == min(limit, count) else {
                throw BenchOptions.UsageError(description: "latest(\(limit)) returned \(events.count) events")
            }
        }
        return ReadResult(samples: samples, store: target.name, operation: "store-latest\(limit)", tableEvents: count)
    }

    /// The backfill end to end through `amqpURL`'s broker, on the table the last write run left.
    func measureBackfill(amqpURL: String) async throws -> [ReadResult] {
        guard let store = lastStore else { throw BenchOptions.UsageError(description: "no store to read") }
        return try await BackfillLatency(amqpURL: amqpURL, store: store, target: target, logins: options.logins, logger: logger).measure()
    }

    func finish() async {
        if let lastStore { await lastStore.close() }
        lastStore = nil
        if options.directory == nil { try? FileManager.default.removeItem(at: directory) }
    }

    private func freshStore(label: String) async throws -> Store {
        switch target {
        case .sqlite:
            let path = directory.appendingPathComponent("\(label).sqlite").path
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            return try await Store.open(url: "sqlite:" + path, logger: logger)
        case .postgres(let url):
            let store = try await Store.open(url: url, logger: logger)
            let direct = try await PostgresDirectWriter.open(url: url, logger: logger)
            try await direct.truncate()
            await direct.close()
            return store
        }
    }

    private func makeWriter(_ mode: WriteMode, store: Store) async throws -> any EventWriter {
        switch (mode, target) {
        case (.store, _): return StoreWriter(store: store)
        case (.dbDirect, .sqlite):
            guard case .sqlite(let path) = store.location else { throw BenchOptions.UsageError(description: "not SQLite") }
            return try await SQLiteDirectWriter.open(path: path, logger: logger)
        case (.dbDirect, .postgres(let url)):
            return try await PostgresDirectWriter.open(url: url, logger: logger)
        }
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}

/// Events like a chat's: increasing ids, a few words of text.
enum EventFactory {
    static func make(count: Int) -> [RoomEvent] {
        let generator = EventIDGenerator()
        let words = ["hello", "room", "warren", "rabbit", "queue", "history", "search", "backfill", "batch", "sqlite"]
        return (0..<count).map { index in
            let text = (0..<8).map { words[(index &* 7 &+ $0 &* 3) % words.count] }.joined(separator: " ") + " #\(index)"
            return RoomEvent(
                id: generator.nextString(), kind: .message, from: "user\(index % 20)", text: text, at: Date(),
                clientId: UUID().uuidString)
        }
    }
}
