import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import WarrenCore

/// The web role's ``RoomRouting`` over AMQP: binds and unbinds a person's exchange to the rooms
/// exchange when the REST API changes a membership, and publishes personal notices to
/// `<prefix>.u.<login>`. It is also the ``WarrenRole`` that keeps its connection (beside
/// ``HistoryRPCClient`` and ``APIPostPublisher``, in one ``RoleGroup``); its channels come from
/// a small pool, and every call is bounded by `timeout`. Without a connection, calls fail at once.
public final class RoomRouter: RoomRouting, WarrenRole {
    /// The role's name, for logs and the connection name.
    public let name = "web-rooms"

    private let declarer: TopologyDeclarer
    private let timeout: Duration
    private let logger: Logger
    private let pool = NIOLockedValueBox<AMQPChannelPool?>(nil)
    private let onlineSeen: NIOLockedValueBox<RecentEntries<Bool>>

    /// Why a call could not be made.
    public struct Unavailable: Error, CustomStringConvertible {
        /// The reason, for a person.
        public let description: String
    }

    /// Creates a router; `timeout` bounds each call; a person's online state is reused for
    /// `onlineMemory` (``RoomRouter/onlineMemory``; zero: asked every time).
    public init(configuration: WarrenConfiguration, timeout: Duration = .seconds(5), onlineMemory: Duration = RoomRouter.onlineMemory, logger: Logger) {
        self.onlineSeen = NIOLockedValueBox(RecentEntries<Bool>(lifetime: onlineMemory))
        self.declarer = TopologyDeclarer(configuration: configuration)
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps `connection` until graceful shutdown (then returns) or until it is lost (then
    /// throws, and ``RoleService`` connects again).
    public func run(on connection: AMQPConnection) async throws {
        try await connection.withTemporaryChannel { try await self.declarer.declareShared(on: $0) }
        let pool = AMQPChannelPool(connection: connection, maxIdle: 2)
        self.pool.withLockedValue { $0 = pool }
        let reason = await withGracefulShutdownHandler {
            await connection.closeReason()
        } onGracefulShutdown: {
            Task { try? await connection.close() }
        }
        self.pool.withLockedValue { $0 = nil }
        await pool.close()
        if let reason { throw reason }
    }

    public func bind(_ login: String, room: String) async throws {
        try await self.withChannel("binding \(login) to \(room)") { try await self.declarer.bindMember(login, room: room, on: $0) }
        self.logger.info("member bound", metadata: ["login": "\(login)", "room": "\(room)"])
    }

    public func unbind(_ login: String, room: String) async throws {
        try await self.withChannel("unbinding \(login) from \(room)") { try await self.declarer.unbindMember(login, room: room, on: $0) }
        self.logger.info("member unbound", metadata: ["login": "\(login)", "room": "\(room)"])
    }

    public func notify(_ login: String, _ event: RoomEvent) async throws {
        let exchange = self.declarer.topology.person(login)
        try await self.withChannel("a notice to \(login)") { channel in
            // The person's exchange may not exist yet (never signed in): declaring is idempotent.
            try await channel.exchangeDeclare(exchange, type: "fanout", durable: true)
            var properties = WarrenProperties.persistent(messageID: event.id)
            // A notice nobody reads in time is stale; a tab disconnected longer loads its list again.
            properties.expiration = String(SharedRules.roomNoticeTtlMs)
            try await channel.publish(event, exchange: exchange, routingKey: "", properties: properties)
        }
    }

    /// How long a person's online state is reused: `GET /api/rooms/{id}/members` of a room of
    /// N members costs at most N passive declares per this time, whatever number of tabs ask.
    public static let onlineMemory: Duration = .seconds(5)

    public func online(_ logins: [String]) async throws -> Set<String> {
        guard let pool = self.pool.withLockedValue({ $0 }) else {
            throw Unavailable(description: "The web server has no connection to the broker right now; try again in a moment.")
        }
        return try await withDeadline(self.timeout, "who is online") {
            var online = Set<String>()
            for login in logins {
                let known = self.onlineSeen.withLockedValue { $0.value(for: login, now: .now) }
                let connected: Bool
                if let known {
                    connected = known
                } else {
                    connected = try await pool.consumerCount(of: self.declarer.topology.onlineQueue(login: login)) > 0
                    self.onlineSeen.withLockedValue { $0.insert(login, value: connected, now: .now) }
                }
                if connected { online.insert(login) }
            }
            return online
        }
    }

    private func withChannel(_ what: String, _ body: @escaping @Sendable (AMQPChannel) async throws -> Void) async throws {
        guard let pool = self.pool.withLockedValue({ $0 }) else {
            throw Unavailable(description: "The web server has no connection to the broker right now; try again in a moment.")
        }
        try await withDeadline(self.timeout, what) { try await pool.withChannel(body) }
    }
}
