import AMQPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

extension ChatHarness {
    /// A history role on `store`.
    func history(
        store: any EventStore,
        afterCommit: (@Sendable ([RoomEvent]) async throws -> Void)? = nil
    ) -> HistoryRole {
        HistoryRole(configuration: self.configuration, store: store, logger: self.logger, initialBackoff: .milliseconds(20), afterCommit: afterCommit)
    }

    /// Starts a history role and waits until it consumes both its queues, so no event routed
    /// afterwards misses the history queue.
    @discardableResult
    func startHistory(
        store: any EventStore,
        afterCommit: (@Sendable ([RoomEvent]) async throws -> Void)? = nil
    ) async throws -> AMQPConnection {
        let before = try await self.consumerCount(self.topology.history) ?? 0
        let connection = try await self.start(self.history(store: store, afterCommit: afterCommit))
        try await eventually("the history role to consume") {
            let writers = try await self.consumerCount(self.topology.history) ?? 0
            let servers = try await self.consumerCount(self.topology.historyRPC) ?? 0
            return writers > before && servers > before
        }
        return connection
    }

    /// Consumers of a queue (nil when it does not exist).
    func consumerCount(_ queue: String) async throws -> UInt32? {
        let channel = try await self.connection.openChannel()
        defer { Task { try? await channel.close() } }
        do {
            return try await channel.queueDeclare(queue, passive: true).consumerCount
        } catch let error as AMQPError where error.code == .notFound {
            return nil
        }
    }

    /// Asks the history role over `<prefix>.history.rpc`, as the login service does.
    func historyCall(_ request: HistoryRequest) async throws -> HistoryReply {
        let client = try await AMQPRPCClient.make(connection: self.connection)
        defer { Task { try? await client.close() } }
        let delivery = try await client.call(
            body: ByteBuffer(bytes: request.encode()), routingKey: self.topology.historyRPC, timeout: .seconds(10)
        )
        return try HistoryReply.decode(delivery.body.readableBytesView)
    }

    /// Waits until the queue holds `count` ready messages, up to `seconds`.
    func waitForMessages(_ queue: String, count: UInt32, within seconds: Double = 10) async throws {
        let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(seconds))
        while ContinuousClock.now < deadline {
            if try await self.messageCount(queue) ?? 0 >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out after \(TestPatience.describe(seconds)) waiting for \(count) messages in \(queue)")
    }
}

/// A SQLite store in a temporary file for one test, removed afterwards.
func withSQLiteStore(_ body: (Store) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-history-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var logger = Logger(label: "warren.test.store")
    logger.logLevel = .warning
    let store = try await Store.open(url: "sqlite:" + folder.appendingPathComponent("warren.sqlite").path, logger: logger)
    do {
        try await body(store)
    } catch {
        await store.close()
        throw error
    }
    await store.close()
}

/// Wraps a store and records what every insert wrote, to tell a rewrite from a first write.
final class RecordingEventStore: EventStore {
    let base: any EventStore
    private let writes = NIOLockedValueBox<[(ids: [String], new: Int)]>([])

    init(_ base: any EventStore) {
        self.base = base
    }

    /// Every committed insert: its ids and how many of them were new.
    var inserts: [(ids: [String], new: Int)] { self.writes.withLockedValue { $0 } }

    func insert(_ events: [RoomEvent]) async throws -> Int {
        let new = try await self.base.insert(events)
        self.writes.withLockedValue { $0.append((events.map(\.id), new)) }
        return new
    }

    func latest(limit: Int, rooms: [String]?) async throws -> [RoomEvent] { try await self.base.latest(limit: limit, rooms: rooms) }
    func before(id: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] { try await self.base.before(id: id, limit: limit, rooms: rooms) }
    func search(_ query: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] { try await self.base.search(query, limit: limit, rooms: rooms) }
    func unread(room: String, after: String?, reader: String, cap: Int) async throws -> UnreadCount {
        try await self.base.unread(room: room, after: after, reader: reader, cap: cap)
    }
    func count() async throws -> Int { try await self.base.count() }
}

/// Waits until `condition` holds, polling, up to `seconds`.
func eventually(_ what: String, within seconds: Double = 15, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(seconds))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(TestPatience.describe(seconds)) waiting for \(what)")
}
