import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import WarrenCore

/// The web role's ``TabSubscribing`` over AMQP, for gRPC `Chat.Subscribe`: a tab queue
/// `<prefix>.user.<login>.<session>` per subscription, declared and bound as the login service
/// does for a browser tab (``TopologyDeclarer/declarePerson(_:rooms:on:)`` and
/// ``TopologyDeclarer/declareUserQueue(_:login:on:)``, so it expires after
/// `WARREN_USER_QUEUE_TTL_MS` unused and holds at most `WARREN_USER_QUEUE_MAX_LENGTH`), read
/// with a bounded prefetch and acknowledged event by event once delivered. It is also the
/// ``WarrenRole`` that keeps its connection, in the web role's ``RoleGroup``.
public final class TabSubscriber: TabSubscribing, WarrenRole {
    /// The role's name, for logs and the connection name.
    public let name = "web-subscriptions"

    private let declarer: TopologyDeclarer
    private let timeout: Duration
    private let logger: Logger
    private let connection = NIOLockedValueBox<AMQPConnection?>(nil)

    /// Unacknowledged events one subscription holds at most.
    public static let prefetch: UInt16 = 64

    /// Creates a subscriber; `timeout` bounds the declarations of each subscription.
    public init(configuration: WarrenConfiguration, timeout: Duration = .seconds(5), logger: Logger) {
        self.declarer = TopologyDeclarer(configuration: configuration)
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps `connection` until graceful shutdown (then returns) or until it is lost (then
    /// throws, and ``RoleService`` connects again). Subscriptions on it end with it.
    public func run(on connection: AMQPConnection) async throws {
        self.connection.withLockedValue { $0 = connection }
        let reason = await withGracefulShutdownHandler {
            await connection.closeReason()
        } onGracefulShutdown: {
            Task { try? await connection.close() }
        }
        self.connection.withLockedValue { $0 = nil }
        if let reason { throw reason }
    }

    public func subscribe(
        login: String, session: String, rooms: [String], stop: @escaping @Sendable () -> Bool,
        deliver: @escaping @Sendable (RoomEvent) async throws -> Void
    ) async throws {
        guard let connection = self.connection.withLockedValue({ $0 }) else {
            throw TabSubscribeError.unavailable("The web server has no connection to the broker right now; try again in a moment.")
        }
        let queue = self.declarer.topology.userQueue(login: login, session: session)
        let channel: AMQPChannel
        let consumer: AMQPConsumer
        do {
            (channel, consumer) = try await withDeadline(self.timeout, "declaring \(queue)") {
                let channel = try await connection.openChannel()
                try await self.declarer.declarePerson(login, rooms: rooms, on: channel)
                _ = try await self.declarer.declareUserQueue(queue, login: login, on: channel)
                try await self.declarer.bindStreamedRooms(rooms, to: queue, on: channel)
                try await channel.basicQos(prefetchCount: Self.prefetch)
                return (channel, try await channel.consume(queue: queue))
            }
        } catch {
            self.logger.warning("subscription not started", metadata: ["queue": "\(queue)", "error": "\(error)"])
            throw TabSubscribeError.unavailable("The broker did not set up the subscription: \(error)")
        }
        self.logger.info("subscribed", metadata: ["queue": "\(queue)"])
        defer { self.logger.info("subscription ended", metadata: ["queue": "\(queue)"]) }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await delivery in consumer {
                        guard let event = Self.event(delivery) else {
                            try await delivery.ack()
                            continue
                        }
                        try await deliver(event)
                        try await delivery.ack()
                    }
                }
                group.addTask {
                    // The caller's stop (server shutdown), noticed within a quarter of a second.
                    while !stop() { try await Task.sleep(for: .milliseconds(250)) }
                }
                try await group.next()
                group.cancelAll()
                // Unacknowledged events go back to the queue for the next subscription.
                try? await channel.close()
            }
        } catch is CancellationError {
            try? await channel.close()
        } catch let error as AMQPError {
            try? await channel.close()
            if stop() { return }
            throw TabSubscribeError.unavailable("The broker link was lost: \(error); subscribe again with the same session.")
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// The room event of a delivery; a backfill (the login service sends them to new tabs only)
    /// or an unreadable message is skipped.
    static func event(_ delivery: AMQPDelivery) -> RoomEvent? {
        try? RoomEvent.decode(delivery.body.readableBytesView)
    }
}
