import AMQPClient
import AMQPProtocol
import WarrenCore

/// Declares the broker names Warren uses, in one place, so every role sends the very same
/// arguments (a redeclare with different ones fails with 406 PRECONDITION_FAILED).
///
/// Every declaration is idempotent: any role may run it at start-up, any number of times.
public struct TopologyDeclarer: Sendable {
    /// The names.
    public let topology: Topology
    /// `x-expires` of a tab's queue, in milliseconds.
    public let userQueueTTLMs: Int
    /// `x-max-length` of a tab's queue.
    public let userQueueMaxLength: Int
    /// The type of the shared durable queues (tab queues are always classic).
    public let queueType: QueueType
    /// Whether general reaches tabs through ``Topology/generalStream`` (`WARREN_GENERAL_STREAM`)
    /// rather than through each person's exchange.
    public let generalStream: Bool

    /// How often a quorum work queue delivers a message before it dead-letters it instead (a
    /// poison message that makes its consumer fail or crash each time). Roomy, so that the
    /// redeliveries of a few failovers in a row are not taken for poison.
    public static let deliveryLimit = 20

    /// Creates a declarer.
    public init(
        topology: Topology, userQueueTTLMs: Int = Limits.userQueueDefaultTTLMs, userQueueMaxLength: Int = Limits.userQueueDefaultMaxLength,
        queueType: QueueType = .classic, generalStream: Bool = false
    ) {
        self.topology = topology
        self.userQueueTTLMs = userQueueTTLMs
        self.userQueueMaxLength = userQueueMaxLength
        self.queueType = queueType
        self.generalStream = generalStream
    }

    /// Creates a declarer from the configuration.
    public init(configuration: WarrenConfiguration) {
        self.init(
            topology: configuration.topology,
            userQueueTTLMs: configuration.userQueueTTLMs,
            userQueueMaxLength: configuration.userQueueMaxLength,
            queueType: configuration.queueType,
            generalStream: configuration.generalStream
        )
    }

    /// `arguments` plus the queue type: for quorum, `x-queue-type` and (unless `limited` is
    /// false) ``deliveryLimit``.
    func shared(_ arguments: FieldTable = [:], limited: Bool = true) -> FieldTable {
        guard self.queueType == .quorum else { return arguments }
        var arguments = arguments
        arguments["x-queue-type"] = .string(QueueType.quorum.rawValue)
        if limited { arguments["x-delivery-limit"] = .int64(Int64(Self.deliveryLimit)) }
        return arguments
    }

    /// Arguments of the work queues: rejected messages (and, for quorum queues, those delivered
    /// ``deliveryLimit`` times) go to the dead-letter queue.
    public var workQueueArguments: FieldTable {
        self.shared([
            "x-dead-letter-exchange": .string(""),
            "x-dead-letter-routing-key": .string(self.topology.dead),
        ])
    }

    /// Arguments of a tab's queue: it goes when unused for the TTL and keeps the newest messages.
    public var userQueueArguments: FieldTable {
        [
            "x-expires": .int64(Int64(self.userQueueTTLMs)),
            "x-max-length": .int64(Int64(self.userQueueMaxLength)),
        ]
    }

    /// Arguments of a person's online queue: it lives as long as an unused tab queue, and holds
    /// nothing (a message published to it by mistake is dropped at once).
    public var onlineQueueArguments: FieldTable {
        [
            "x-expires": .int64(Int64(self.userQueueTTLMs)),
            "x-max-length": .int64(0),
        ]
    }

    /// Arguments of the cron election queue: one active consumer at a time.
    public var cronQueueArguments: FieldTable {
        self.shared(["x-single-active-consumer": .bool(true)], limited: false)
    }

    /// The work queues every role may declare.
    public var workQueues: [String] {
        [self.topology.login, self.topology.inbox, self.topology.botReverser, self.topology.powJobs, self.topology.powRPC]
    }

    /// Declares the exchanges, the dead-letter queue, the work queues and their bindings (with
    /// people's way in, `<prefix>.in`, to the login and inbox queues).
    ///
    /// The fanout `<prefix>.room` of the time before rooms is deleted (a no-op when it is not
    /// there): every tab queue still bound to it would otherwise get every room's plain posts.
    public func declareShared(on channel: AMQPChannel) async throws {
        try await channel.exchangeDeclare(self.topology.posts, type: "topic", durable: true)
        try await channel.exchangeDeclare(self.topology.rooms, type: "topic", durable: true)
        try await channel.exchangeDelete(self.topology.legacyRoom)
        try await self.declareGeneralStream(on: channel)
        try await channel.queueDeclare(self.topology.dead, durable: true, arguments: self.shared(limited: false))
        for queue in self.workQueues {
            try await channel.queueDeclare(queue, durable: true, arguments: self.workQueueArguments)
        }
        try await channel.queueBind(queue: self.topology.botReverser, exchange: self.topology.posts, routingKey: Topology.reverserBindingKey)
        // People's way in: login requests and posts, nothing else (BrokerPolicy).
        try await channel.exchangeDeclare(self.topology.entry, type: "direct", durable: true)
        for queue in [self.topology.login, self.topology.inbox] {
            try await channel.queueBind(queue: queue, exchange: self.topology.entry, routingKey: queue)
        }
    }

    /// How long a room's stream keeps an event: a tab that comes back within it resumes at its
    /// offset and misses nothing (one that stays away longer is backfilled from history).
    public static let streamMaxAge = "1D"
    /// The most bytes a room's stream keeps (the oldest segments go first).
    public static let streamMaxBytes: Int64 = 200_000_000
    /// A stream's segment: retention drops whole segments, so they are kept small beside
    /// ``streamMaxBytes`` (the broker's default is 500 MB).
    public static let streamSegmentBytes: Int64 = 10_000_000

    /// Arguments of a room's stream (durable, replicated on every node of a cluster).
    public var streamArguments: FieldTable {
        [
            "x-queue-type": .string("stream"),
            "x-max-age": .string(Self.streamMaxAge),
            "x-max-length-bytes": .int64(Self.streamMaxBytes),
            "x-stream-max-segment-size-bytes": .int64(Self.streamSegmentBytes),
        ]
    }

    /// With ``generalStream``, declares general's stream and binds it to the rooms exchange
    /// with general's key; without, nothing (a stream left from a run with it on keeps its
    /// binding and retention, and no tab reads it).
    public func declareGeneralStream(on channel: AMQPChannel) async throws {
        guard self.generalStream else { return }
        let stream = self.topology.generalStream
        try await channel.queueDeclare(stream, durable: true, arguments: self.streamArguments)
        try await channel.queueBind(queue: stream, exchange: self.topology.rooms, routingKey: Topology.roomKey(ChatRoom.general))
    }

    /// Arguments of `Topology.cronLast`: only the newest record is kept.
    public var cronLastArguments: FieldTable {
        self.shared(["x-max-length": .int64(1)], limited: false)
    }

    /// Declares the cron election queue and the record of the latest posted tick.
    public func declareCron(on channel: AMQPChannel) async throws {
        try await channel.queueDeclare(self.topology.cron, durable: true, arguments: self.cronQueueArguments)
        try await channel.queueDeclare(self.topology.cronLast, durable: true, arguments: self.cronLastArguments)
    }

    /// Arguments of the history queue: one active consumer (one writer; a standby takes over
    /// when it goes), and what it cannot read goes to the dead-letter queue. No delivery limit:
    /// the writer dead-letters what it cannot read itself, and requeues everything while the
    /// store is down, which must not count against the events.
    public var historyQueueArguments: FieldTable {
        var arguments = self.workQueueArguments
        arguments["x-single-active-consumer"] = .bool(true)
        arguments["x-delivery-limit"] = nil
        return arguments
    }

    /// Declares the history queue, bound to every room, and the history request queue.
    public func declareHistory(on channel: AMQPChannel) async throws {
        try await channel.queueDeclare(self.topology.history, durable: true, arguments: self.historyQueueArguments)
        try await channel.queueBind(queue: self.topology.history, exchange: self.topology.rooms, routingKey: Topology.historyBindingKey)
        try await channel.queueDeclare(self.topology.historyRPC, durable: true, arguments: self.workQueueArguments)
    }

    /// Whether a tab's queue is durable: on one broker yes (it outlives a restart); in a
    /// cluster (quorum queues) no, so that a tab whose queue's node went can log in again at once
    /// on another node (a durable classic queue's name stays taken while its node is down).
    public var userQueueDurable: Bool { self.queueType == .classic }

    /// Declares a tab's queue and binds it to its person's exchange (``declarePerson(_:rooms:on:)``
    /// must have declared that exchange).
    @discardableResult
    public func declareUserQueue(_ queue: String, login: String, on channel: AMQPChannel) async throws -> AMQPQueueDeclareResult {
        let result = try await channel.queueDeclare(queue, durable: self.userQueueDurable, arguments: self.userQueueArguments)
        try await channel.queueBind(queue: queue, exchange: self.topology.person(login))
        return result
    }

    /// Declares a person's exchange `<prefix>.u.<login>` (durable fanout) and binds it to the
    /// rooms exchange once per room of `rooms` (key `room.<id>`). Idempotent: what exists is
    /// left as it is, so this rebuilds a person's routing on a broker that lost it.
    ///
    /// A room with a stream (``isStreamed(_:)``) is not bound (its tabs read the stream), and a
    /// binding to it left from a run without the stream is removed, so no tab gets it twice.
    public func declarePerson(_ login: String, rooms: [String], on channel: AMQPChannel) async throws {
        let person = self.topology.person(login)
        try await channel.exchangeDeclare(person, type: "fanout", durable: true)
        for room in rooms {
            if self.isStreamed(room) {
                try await self.unbindMember(login, room: room, on: channel)
            } else {
                try await channel.exchangeBind(destination: person, source: self.topology.rooms, routingKey: Topology.roomKey(room))
            }
        }
    }

    /// Binds a tab queue whose reader reads no stream (a gRPC subscription) straight to the
    /// rooms of `rooms` that have one, so it gets them all the same. One binding per such tab:
    /// fine for the few of them, which is why browsers read the stream instead.
    public func bindStreamedRooms(_ rooms: [String], to queue: String, on channel: AMQPChannel) async throws {
        for room in rooms where self.isStreamed(room) {
            try await channel.queueBind(queue: queue, exchange: self.topology.rooms, routingKey: Topology.roomKey(room))
        }
    }

    /// Whether `room` reaches tabs through its stream rather than through people's exchanges.
    public func isStreamed(_ room: String) -> Bool {
        self.generalStream && room == ChatRoom.general
    }

    /// Declares `login`'s online queue (``Topology/onlineQueue(login:)``), bound to nothing: the
    /// consumers on it are their connected tabs. Idempotent.
    public func declareOnlineQueue(_ login: String, on channel: AMQPChannel) async throws {
        try await channel.queueDeclare(self.topology.onlineQueue(login: login), durable: self.userQueueDurable, arguments: self.onlineQueueArguments)
    }

    /// Makes `login` receive `room` in every tab: one binding, whatever number of tabs they
    /// have open (the person's exchange is declared first, so this works before their first login).
    public func bindMember(_ login: String, room: String, on channel: AMQPChannel) async throws {
        try await self.declarePerson(login, rooms: [room], on: channel)
    }

    /// Stops `room` reaching any tab of `login`: one unbind.
    public func unbindMember(_ login: String, room: String, on channel: AMQPChannel) async throws {
        try await channel.exchangeUnbind(destination: self.topology.person(login), source: self.topology.rooms, routingKey: Topology.roomKey(room))
    }
}
