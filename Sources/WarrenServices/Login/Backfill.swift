import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WarrenCore
import WarrenOps

/// Fills a new tab's queue with the room's latest events, asked of the history role over
/// `<prefix>.history.rpc`.
///
/// Call ``fill(_:publisher:)`` only after the tab's queue is bound to the room (the broker
/// confirmed the binding): the history role's barrier then guarantees that every event is either
/// in the backfill or delivered live (see ``HistoryRole``). Both can hold an event; the page
/// drops the second copy by id. Backfilled events go to the tab's queue through the default
/// exchange, persistent, as one ``BackfillBatch`` message (the page reads both shapes).
///
/// A backfill is a nicety: with `WARREN_HISTORY=none`, with no history role running, on a
/// timeout or a refusal, it logs and does nothing, and the login goes on. Any number of logins
/// may fill at once: they share one RPC client (calls are told apart by correlation id), and
/// whether a history role is there at all is asked at most once per ``consumerCheckLifetime``.
final class Backfill: Sendable {
    private let connection: AMQPConnection
    private let configuration: WarrenConfiguration
    private let logger: Logger
    private let timeout: TimeAmount
    private let pool: AMQPChannelPool
    private let client = NIOLockedValueBox<AMQPRPCClient?>(nil)
    /// When the history role was last seen to consume its request queue.
    private let historySeen = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    /// How long a sighting of the history role is trusted.
    static let consumerCheckLifetime: Duration = .seconds(5)

    /// Creates a backfill on `connection`; `timeout` bounds the wait for the history role.
    init(
        connection: AMQPConnection, configuration: WarrenConfiguration, logger: Logger, pool: AMQPChannelPool,
        timeout: TimeAmount = .seconds(3)
    ) {
        self.connection = connection
        self.configuration = configuration
        self.logger = logger
        self.pool = pool
        self.timeout = timeout
    }

    /// Publishes the latest ``Limits/backfillCount`` events into `queue` as one message.
    /// Throws only when publishing fails (the connection is in trouble).
    func fill(_ queue: String, rooms: [String], publisher: AMQPChannel) async throws {
        guard self.configuration.history == .store else { return }
        var logger = self.logger
        logger[metadataKey: "queue"] = "\(queue)"
        let start = ContinuousClock.now
        guard let events = await self.latest(rooms: rooms, logger: logger) else { return }
        defer { RPCMetrics.backfilled(since: start) }  // an empty room's too: the history role answered
        guard !events.isEmpty else { return }
        try await publisher.publish(BackfillBatch(events: events), routingKey: queue, properties: WarrenProperties.persistent())
        logger.debug("backfilled", metadata: ["events": "\(events.count)"])
    }

    /// Whether a history role consumes its request queue (asked of the broker at most once per
    /// ``consumerCheckLifetime`` while it does).
    private func historyIsThere(_ rpcQueue: String) async throws -> Bool {
        if let seen = self.historySeen.withLockedValue({ $0 }), ContinuousClock.now - seen < Self.consumerCheckLifetime {
            return true
        }
        let consumers = try await self.pool.withChannel { try await $0.queueDeclare(rpcQueue, passive: true).consumerCount }
        self.historySeen.withLockedValue { $0 = consumers > 0 ? ContinuousClock.now : nil }
        return consumers > 0
    }

    /// The latest events, or nil (logged) when the history role does not answer.
    private func latest(rooms: [String], logger: Logger) async -> [RoomEvent]? {
        let rpcQueue = self.configuration.topology.historyRPC
        do {
            // Nobody to ask: skip at once rather than wait for the timeout.
            guard try await self.historyIsThere(rpcQueue) else {
                logger.info("no history role is running; no backfill")
                return nil
            }
            let request = HistoryRequest(.latest, limit: Limits.backfillCount, rooms: rooms)
            let delivery = try await timedRPC("backfill") {
                try await self.rpcClient().call(
                    body: ByteBuffer(bytes: request.encode()),
                    routingKey: rpcQueue,
                    properties: WarrenProperties.persistent(),
                    timeout: self.timeout
                )
            }
            let reply = try HistoryReply.decode(delivery.body.readableBytesView)
            guard reply.ok, let events = reply.events else {
                logger.warning("history refused the backfill", metadata: ["code": "\(reply.code ?? "")", "error": "\(reply.error ?? "")"])
                return nil
            }
            return events
        } catch let error as AMQPError where error.code == .notFound {
            logger.info("no history request queue; no backfill")
        } catch let error as AMQPError where error.code == .timeout {
            logger.warning("the history role did not answer in time; no backfill", metadata: ["timeout": "\(self.timeout)"])
        } catch {
            logger.warning("backfill failed; the login goes on without it", metadata: ["error": "\(error)"])
        }
        return nil
    }

    private func rpcClient() async throws -> AMQPRPCClient {
        if let client = self.client.withLockedValue({ $0 }), client.channel.closeReason == nil {
            return client
        }
        // Logins that find no client at the same moment each make one; the first kept wins
        // and the others are closed before anyone calls on them.
        let made = try await AMQPRPCClient.make(connection: self.connection)
        let winner = self.client.withLockedValue { current -> AMQPRPCClient in
            if let current, current.channel.closeReason == nil { return current }
            current = made
            return made
        }
        if winner !== made { try? await made.close() }
        return winner
    }

    /// Closes the RPC channel.
    func close() async {
        let client = self.client.withLockedValue { $0 }
        try? await client?.close()
    }
}
