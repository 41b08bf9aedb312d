import AMQPClient
import AMQPProtocol
import ServiceLifecycle
import WarrenCore

/// Who is online, told as it changes: the broker's own consumer events.
///
/// A person's tabs each consume their online queue `<prefix>.user.<login>.online`, and the broker
/// drops a tab's consumer the moment its socket closes (a closed tab, a reload, a lost
/// connection once the heart-beats miss). With the `rabbitmq_event_exchange` plugin the broker
/// publishes `consumer.created` and `consumer.deleted` to `amq.rabbitmq.event`, with the queue
/// and its vhost as headers. The login service binds a queue of its own to them (single active
/// consumer, so events are read in order by one copy) and turns those of online queues into
/// `online` events in `general` through the presence batcher: "alice came online" when a tab
/// of hers consumes, "alice went offline" when the last one went (a passive declare says how
/// many remain). Pages mark her at once instead of at their next members request.
///
/// Without the plugin (the exchange is not there) this logs once and does nothing: pages still
/// learn of closed tabs from their periodic members request.
extension LoginRole {
    /// Consumes the broker's consumer events until cancelled; returns quietly without the plugin.
    func watchOnlineQueues(connection: AMQPConnection, pool: AMQPChannelPool, presence: SharedPresence, publisher: AMQPChannel) async throws {
        let consumer: AMQPConsumer
        do {
            consumer = try await withDeadline(.seconds(10), "declaring \(self.topology.consumerEvents)") {
                try await self.declareConsumerEvents(on: connection)
            }
        } catch let error as AMQPError where error.code == .notFound || error.code == .accessRefused {
            self.logger.notice(
                "no broker consumer events (enable rabbitmq_event_exchange with event_exchange.vhost = this vhost): pages see closed tabs at their next members request",
                metadata: ["error": "\(error)"]
            )
            return
        }
        let vhost = connection.configuration.virtualHost
        for try await delivery in consumer.cancelOnGracefulShutdown() {
            if let login = Self.onlineQueueOwner(delivery.properties.headers, vhost: vhost, topology: self.topology) {
                let change: PresenceBatcher.Change?
                if delivery.routingKey == "consumer.created" {
                    change = .online
                } else {
                    let tabs = try await withDeadline(.seconds(5), "the online queue of \(login)") {
                        try await pool.consumerCount(of: self.topology.onlineQueue(login: login))
                    }
                    change = tabs == 0 ? .offline : nil
                }
                if let change { await self.announce(presence.changed(change, login), publisher: publisher) }
            }
            try await delivery.ack()
        }
        try? await consumer.channel.close()
    }

    /// The login whose online queue a consumer event is about, or nil for any other queue or vhost.
    static func onlineQueueOwner(_ headers: FieldTable?, vhost: String, topology: Topology) -> String? {
        let start = topology.prefix + ".user.", end = "." + Topology.onlineQueueSuffix
        guard let headers, headers["vhost"]?.stringValue == vhost, let queue = headers["queue"]?.stringValue,
            queue.hasPrefix(start), queue.hasSuffix(end), queue.count > start.count + end.count
        else { return nil }
        let login = String(queue.dropFirst(start.count).dropLast(end.count))
        return (try? Validation.login(login)) != nil ? login : nil
    }

    /// Declares the events queue (bounded; stale events expire; gone with its last consumer, since
    /// events nobody reads are of no use later) and binds it; a consumer on it.
    private func declareConsumerEvents(on connection: AMQPConnection) async throws -> AMQPConsumer {
        let channel = try await connection.openChannel()
        do {
            let queue = self.topology.consumerEvents
            _ = try await channel.queueDeclare(
                queue, durable: false, autoDelete: true,
                arguments: [
                    "x-single-active-consumer": .bool(true), "x-max-length": .int64(Self.consumerEventsMax),
                    "x-overflow": .string("drop-head"), "x-message-ttl": .int64(Self.consumerEventLifetimeMs),
                ]
            )
            for key in Topology.consumerEventKeys {
                try await channel.queueBind(queue: queue, exchange: Topology.brokerEvents, routingKey: key)
            }
            try await channel.basicQos(prefetchCount: self.prefetch)
            return try await channel.consume(queue: queue)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// The most consumer events kept waiting (the oldest go first): a reconnect storm of every tab.
    static let consumerEventsMax: Int64 = 20_000
    /// How long a consumer event is worth reading: later, pages have asked for the members anyway.
    static let consumerEventLifetimeMs: Int64 = 30_000
}
