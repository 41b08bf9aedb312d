import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WarrenCore

/// Fills a new tab's queue with the room's latest events, asked of the history role over
/// `<prefix>.history.rpc`.
///
/// Call ``fill(_:publisher:)`` only after the tab's queue is bound to the room (the broker
/// confirmed the binding): the history role's barrier then guarantees that every event is either
/// in the backfill or delivered live (see ``HistoryRole``). Both can hold an event; the page
/// drops the second copy by id. Backfilled events go to the tab's queue through the default
/// exchange, persistent, like live ones.
///
/// A backfill is a nicety: with `WARREN_HISTORY=none`, with no history role running, on a
/// timeout or a refusal, it logs and does nothing, and the login goes on. Meant for one consumer
/// loop (like ``QueueProbe``).
final class Backfill: Sendable {
    private let connection: AMQPConnection
    private let configuration: WarrenConfiguration
    private let logger: Logger
    private let timeout: TimeAmount
    private let client = NIOLockedValueBox<AMQPRPCClient?>(nil)

    /// Creates a backfill on `connection`; `timeout` bounds the wait for the history role.
    init(connection: AMQPConnection, configuration: WarrenConfiguration, logger: Logger, timeout: TimeAmount = .seconds(3)) {
        self.connection = connection
        self.configuration = configuration
        self.logger = logger
        self.timeout = timeout
    }

    /// Publishes the latest ``Limits/backfillCount`` events into `queue`, oldest first.
    /// Throws only when publishing fails (the connection is in trouble).
    func fill(_ queue: String, publisher: AMQPChannel) async throws {
        guard self.configuration.history == .store else { return }
        var logger = self.logger
        logger[metadataKey: "queue"] = "\(queue)"
        guard let events = await self.latest(logger: logger) else { return }
        // All published at once, then the confirms awaited (in order): one round trip, not 50.
        let pending = events.map {
            publisher.startPublish($0, routingKey: queue, properties: WarrenProperties.persistent(messageID: $0.id))
        }
        for publish in pending { try await publish.confirmed() }
        logger.debug("backfilled", metadata: ["events": "\(events.count)"])
    }

    /// The latest events, or nil (logged) when the history role does not answer.
    private func latest(logger: Logger) async -> [RoomEvent]? {
        let rpcQueue = self.configuration.topology.historyRPC
        do {
            // Nobody to ask: skip at once rather than wait for the timeout.
            let consumers = try await self.connection.withTemporaryChannel {
                try await $0.queueDeclare(rpcQueue, passive: true).consumerCount
            }
            guard consumers > 0 else {
                logger.info("no history role is running; no backfill")
                return nil
            }
            let request = HistoryRequest(.latest, limit: Limits.backfillCount)
            let delivery = try await self.rpcClient().call(
                body: ByteBuffer(bytes: request.encode()),
                routingKey: rpcQueue,
                properties: WarrenProperties.persistent(),
                timeout: self.timeout
            )
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
        let client = try await AMQPRPCClient.make(connection: self.connection)
        self.client.withLockedValue { $0 = client }
        return client
    }

    /// Closes the RPC channel.
    func close() async {
        let client = self.client.withLockedValue { $0 }
        try? await client?.close()
    }
}
