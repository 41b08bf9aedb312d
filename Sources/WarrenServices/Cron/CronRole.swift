import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The cron role: posts a `system` event with the configured text to the room on a schedule.
///
/// Any number of copies may run; each tick is posted once. The election:
/// - every copy publishes, at each due time, a *tick* to `<prefix>.cron` whose message id is
///   the due time (RFC 3339, so every copy names a tick alike);
/// - `<prefix>.cron` has `x-single-active-consumer`: the broker delivers to one consumer only,
///   and hands over to another when that one goes;
/// - the active copy posts a tick to the room unless it already posted that tick or a later one
///   (the duplicate ticks of the other copies are acknowledged and dropped), and skips ticks
///   older than ``staleness`` (left in the queue while nobody was active).
///
/// A tick is recorded in `<prefix>.cron.last` (a queue of length 1) before it is posted, and the
/// active copy reads that record for every tick, so the other copies' duplicates of a tick its
/// predecessor posted are dropped too. A crash between recording and posting loses that one tick
/// (at most once); a copy whose clock is far ahead can make the active one drop an earlier tick
/// (never a duplicate).
public struct CronRole: RoomEventRole {
    /// The role's name.
    public let name = "cron"
    /// The name events are from.
    public static let botName = "cron"
    let configuration: WarrenConfiguration
    let clock: any CronClock
    let ids: EventIDGenerator
    let logger: Logger
    /// How old a tick may be when it arrives and still be posted.
    public let staleness: TimeInterval

    /// Creates the role.
    public init(
        configuration: WarrenConfiguration,
        logger: Logger,
        clock: any CronClock = SystemCronClock(),
        ids: EventIDGenerator = EventIDGenerator(),
        staleness: TimeInterval? = nil
    ) {
        self.configuration = configuration
        self.clock = clock
        self.ids = ids
        self.logger = logger
        self.staleness = staleness ?? max(5, Double(configuration.cronSchedule.intervalSeconds ?? 60))
    }

    var topology: Topology { self.configuration.topology }

    /// Publishes ticks and posts the ones this copy receives, until graceful shutdown.
    public func run(on connection: AMQPConnection) async throws {
        let declarer = self.declarer
        try await connection.withTemporaryChannel {
            try await declarer.declareShared(on: $0)
            try await declarer.declareCron(on: $0)
        }
        let publisher = try await AMQPChannel.confirming(on: connection)
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: 8)
        let consumer = try await channel.consume(queue: self.topology.cron)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    try await self.publishTicks(publisher: publisher)
                }
            }
            var filter = TickFilter(staleness: self.staleness)
            for try await delivery in consumer.cancelOnGracefulShutdown() {
                guard let id = delivery.properties.messageID, let tick = Timestamp.parse(id) else {
                    try await delivery.deadLetter("cron tick without a time as message id", logger: self.logger)
                    continue
                }
                // Read the record for every tick, not only on becoming active: a predecessor that
                // is handing over may record a tick after this copy's first delivery.
                if let recorded = try await self.recordedTick(on: channel), recorded > (filter.lastPosted ?? .distantPast) {
                    filter.lastPosted = recorded
                }
                if filter.shouldPost(tick, now: self.clock.now()) {
                    // Record first, then post: a crash in between loses one tick rather than
                    // letting the next active copy post it a second time.
                    filter.lastPosted = tick
                    var record = BasicProperties()
                    record.messageID = id
                    record.deliveryMode = BasicProperties.persistentDeliveryMode
                    try await publisher.publish(body: [UInt8](), routingKey: self.topology.cronLast, properties: record)
                    let event = RoomEvent(
                        id: self.ids.nextString(), kind: .system, from: Self.botName, text: self.configuration.cronText, at: tick,
                        room: self.configuration.cronRoom
                    )
                    try await publisher.publish(roomEvent: event, topology: self.topology)
                    self.logger.info("posted", metadata: ["tick": "\(id)"])
                } else {
                    self.logger.debug("tick already posted or stale", metadata: ["tick": "\(id)"])
                }
                try await delivery.ack()
            }
            group.cancelAll()
            try await group.waitForAll()
        }
        try? await channel.close()
        try? await publisher.close()
    }

    var declarer: TopologyDeclarer { TopologyDeclarer(configuration: self.configuration) }

    /// The latest tick any copy recorded as posted, left in its queue.
    private func recordedTick(on channel: AMQPChannel) async throws -> Date? {
        guard let result = try await channel.get(queue: self.topology.cronLast) else { return nil }
        try await result.delivery.reject(requeue: true)
        return result.delivery.properties.messageID.flatMap(Timestamp.parse)
    }

    private func publishTicks(publisher: AMQPChannel) async throws {
        let schedule = self.configuration.cronSchedule
        var after = self.clock.now()
        while let due = schedule.next(after: after) {
            try await self.clock.sleep(until: due)
            var properties = BasicProperties()
            properties.messageID = Timestamp.format(due)
            // Ticks nobody takes in time are useless; the broker drops them.
            properties.expiration = String(Int(max(self.staleness, 1) * 1000))
            try await publisher.publish(body: [UInt8](), routingKey: self.topology.cron, properties: properties)
            after = due
        }
        self.logger.warning("the schedule has no further time", metadata: ["schedule": "\(schedule)"])
    }
}
