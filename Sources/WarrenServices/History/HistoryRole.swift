import AMQPClient
import AMQPProtocol
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenStore

/// The history role: writes the room to the store in batches and answers history requests.
///
/// **Writing.** `<prefix>.history` is a durable queue bound to the room fanout with
/// `x-single-active-consumer`: however many copies run, the broker delivers to one (the writer)
/// and hands over to another when it goes. The writer batches events (``HistoryBatcher``) and
/// acknowledges a batch only after the store committed it; the store keys events by id, so a
/// batch delivered again after a crash writes nothing twice, and nothing unacknowledged is lost.
///
/// **Requests.** `<prefix>.history.rpc` takes ``HistoryRequest``s with a reply-to and a
/// correlation id; every copy consumes it (competing consumers). `before` and `search` are
/// answered from the store at once. `latest` — what the login service asks to backfill a new
/// tab — goes through a *barrier*:
///
/// **The seam guarantee.** A new tab must see every event, from its backfill or live, with none
/// missing between the two. The login service binds the tab's queue to the room *first* and
/// asks for the backfill only after the broker confirmed the binding (`queue.bind-ok`). So every
/// event is routed either after the binding — it reaches the tab live — or before it, and then
/// it was also put in `<prefix>.history` before the request was even sent. On receiving a
/// `latest` request, the role does not query the store straight away: it publishes a barrier (the
/// request itself, marked with the ``barrierHeader`` header, keeping its reply-to and
/// correlation id) into `<prefix>.history` through the default exchange. The queue is FIFO and
/// has one active consumer, so the barrier reaches the writer after every event routed before
/// the binding. The writer then writes its pending batch, runs the query and replies: the
/// backfill holds every stored event up to the barrier, the tab's queue every event after the
/// binding, and the page drops the overlap by event id. (The ordering rests on the broker putting
/// a routed message in the history queue when it routes it; on one node a local send to the
/// queue's process is in its mailbox when made, and the barrier is sent several network round
/// trips after the binding.) Whichever copy is the active writer answers the barrier, so a
/// standby's requests are answered too.
public struct HistoryRole: WarrenRole {
    /// The role's name.
    public let name = "history"
    /// The header that marks a barrier in the history queue.
    public static let barrierHeader = "x-warren-history-barrier"

    let configuration: WarrenConfiguration
    let store: any EventStore
    let logger: Logger
    let initialBackoff: Duration
    let afterCommit: (@Sendable ([RoomEvent]) async throws -> Void)?

    /// Creates the role.
    ///
    /// - Parameters:
    ///   - store: Where events go.
    ///   - initialBackoff: The wait before requeueing after the first failed write (it doubles
    ///     with each failure in a row, up to 5 s).
    ///   - afterCommit: Called after each batch is committed and before it is acknowledged: a
    ///     seam for tests (e.g. to hold a batch while the role is killed). Its error ends the role.
    public init(
        configuration: WarrenConfiguration,
        store: any EventStore,
        logger: Logger,
        initialBackoff: Duration = .milliseconds(100),
        afterCommit: (@Sendable ([RoomEvent]) async throws -> Void)? = nil
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.initialBackoff = initialBackoff
        self.afterCommit = afterCommit
    }

    var topology: Topology { self.configuration.topology }

    /// The history consumer's prefetch: room for a batch being written and the next one filling.
    var prefetch: UInt16 { UInt16(clamping: 2 * self.configuration.historyBatch + 16) }

    /// Declares the queues, then writes and answers until graceful shutdown.
    public func run(on connection: AMQPConnection) async throws {
        try await connection.withTemporaryChannel {
            let declarer = TopologyDeclarer(configuration: self.configuration)
            try await declarer.declareShared(on: $0)
            try await declarer.declareHistory(on: $0)
        }
        let publisher = try await AMQPChannel.confirming(on: connection)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.write(connection: connection, publisher: publisher) }
            group.addTask { try await self.serveRequests(connection: connection, publisher: publisher) }
            try await group.waitForAllOrFirstFailure()
        }
        try? await publisher.close()
    }

    // MARK: Requests

    private func serveRequests(connection: AMQPConnection, publisher: AMQPChannel) async throws {
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: 16)
        let consumer = try await channel.consume(queue: self.topology.historyRPC)
        for try await delivery in consumer.cancelOnGracefulShutdown() {
            try await self.handleRequest(delivery, publisher: publisher)
        }
        try? await channel.close()
    }

    func handleRequest(_ delivery: AMQPDelivery, publisher: AMQPChannel) async throws {
        guard let replyTo = delivery.properties.replyTo, !replyTo.isEmpty else {
            try await delivery.deadLetter("history request without reply_to", logger: self.logger)
            return
        }
        let correlationID = delivery.properties.correlationID
        let request: HistoryRequest
        do throws(Refusal) {
            request = try HistoryRequest.decode(delivery.body.readableBytesView).validate()
        } catch {
            try await self.reply(.failure(error), to: replyTo, correlationID: correlationID, publisher: publisher)
            try await delivery.deadLetter("history request refused: \(error)", logger: self.logger)
            return
        }
        switch request.query {
        case .latest:
            // The barrier: see the type's documentation.
            var properties = WarrenProperties.persistent(headers: [Self.barrierHeader: .bool(true)])
            properties.replyTo = replyTo
            properties.correlationID = correlationID
            try await publisher.publish(request, routingKey: self.topology.history, properties: properties)
        case .before, .search:
            let reply = await self.answer(request)
            try await self.reply(reply, to: replyTo, correlationID: correlationID, publisher: publisher)
        }
        try await delivery.ack()
    }

    /// Runs a valid request against the store; a store failure is a failure reply.
    func answer(_ request: HistoryRequest) async -> HistoryReply {
        do {
            let events: [RoomEvent]
            let rooms = request.roomsToRead
            switch request.query {
            case .latest: events = try await self.store.latest(limit: request.limit, rooms: rooms)
            case .before(let id): events = try await self.store.before(id: id, limit: request.limit, rooms: rooms)
            case .search(let text): events = try await self.store.search(text, limit: request.limit, rooms: rooms)
            }
            return .success(events)
        } catch {
            self.logger.error("history query failed", metadata: ["op": "\(request.query.op)", "error": "\(error)"])
            return .failure(Refusal(.historyUnavailable, "The history store could not answer; try again later."))
        }
    }

    func reply(_ reply: HistoryReply, to replyTo: String, correlationID: String?, publisher: AMQPChannel) async throws {
        try await publisher.publishReply(reply, to: replyTo, correlationID: correlationID)
    }
}
