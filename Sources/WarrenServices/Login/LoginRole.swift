import AMQPClient
import AMQPProtocol
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenOps
import WarrenStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The login service: logs tabs in and out (`<prefix>.login`) and admits posts (`<prefix>.inbox`).
///
/// A login declares the tab's queue `<prefix>.user.<login>.<session>` bound to the room and
/// replies with its name; the first login of a session (not a reload) announces a `presence`
/// event. Logins are handled up to ``loginConcurrency`` at a time, each within ``loginTimeout``
/// (see LoginRole+Logins.swift). A post is admitted when it is valid and its session's queue exists; it goes to the
/// posts exchange with key `post.plain|pow|rpc`. A refused post gets an `error` event in the
/// sender's queue only; a post with no queue to tell, or one that is not JSON, is dead-lettered.
/// A post the web role sends for the REST API (``PostAuthor/onBehalfHeader``) needs no tab: it
/// is answered on its reply queue instead (see `handleAPIPost`).
/// A tab queue this service declared, or saw on a post, is taken to exist for `sessionMemory`
/// (WARREN_SESSION_MEMORY_MS, 30 s) without another passive declare, and a logout here forgets
/// it at once; nothing else is kept between messages, so any number of copies can run side by
/// side (a logout through another copy is noticed here within the memory).
public struct LoginRole: RoomEventRole {
    /// The role's name.
    public let name = "login"
    let configuration: WarrenConfiguration
    let declarer: TopologyDeclarer
    let ids: EventIDGenerator
    /// The posts admitted lately, so one that arrives again keeps its event id.
    let admitted: AdmittedPosts
    let logger: Logger
    /// The services' broker account, the only `user_id` trusted to post on someone's behalf.
    let serviceUser: String
    let now: @Sendable () -> Date
    /// How many deliveries each consumer holds unacknowledged.
    let prefetch: UInt16
    /// The default prefetch: room for the posts whose publishes await the broker's confirm
    /// (for persistent posts fanned out to many durable queues a confirm can take tens of ms
    /// on a busy broker, so a small prefetch, not the broker, would set the pace).
    public static let defaultPrefetch: UInt16 = 256
    /// How long a post's session queue, once declared or seen, is taken to exist without
    /// another passive declare.
    let sessionMemory: Duration
    /// How many logins are handled at once.
    let loginConcurrency: Int
    /// How long one login may take before it is answered with ``Refusal/Code-swift.struct/serviceBusy``.
    let loginTimeout: Duration
    /// The default of ``loginConcurrency``: enough to keep the broker's round trips overlapped
    /// (a login is a handful of them), few enough that a storm of logins queues in the broker,
    /// not in this process.
    public static let defaultLoginConcurrency = 32
    /// The default of ``loginTimeout``: well under the page's own wait for a reply (15 s).
    public static let defaultLoginTimeout: Duration = .seconds(10)
    /// Runs before each valid login request is handled (tests use it to hold one up).
    let beforeHandling: (@Sendable (LoginRequest) async throws -> Void)?
    /// Rooms and memberships; nil: `general` is the only room (everyone's).
    let rooms: (any RoomStore)?
    /// Typing notices per tab (``SharedRules/typingIntervalMs``).
    let typingThrottle = SharedTypingThrottle(interval: .milliseconds(SharedRules.typingIntervalMs))

    /// Creates the role; `sessionMemory` nil takes the configuration's.
    public init(
        configuration: WarrenConfiguration,
        logger: Logger,
        ids: EventIDGenerator = EventIDGenerator(),
        prefetch: UInt16 = LoginRole.defaultPrefetch,
        sessionMemory: Duration? = nil,
        loginConcurrency: Int = LoginRole.defaultLoginConcurrency,
        loginTimeout: Duration = LoginRole.defaultLoginTimeout,
        beforeHandling: (@Sendable (LoginRequest) async throws -> Void)? = nil,
        rooms: (any RoomStore)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.rooms = rooms
        self.configuration = configuration
        self.declarer = TopologyDeclarer(configuration: configuration)
        self.ids = ids
        self.admitted = AdmittedPosts()
        self.logger = logger
        self.serviceUser = configuration.serviceUser
        self.prefetch = prefetch
        self.sessionMemory = sessionMemory ?? .milliseconds(configuration.sessionMemoryMs)
        self.loginConcurrency = max(1, loginConcurrency)
        self.loginTimeout = loginTimeout
        self.beforeHandling = beforeHandling
        self.now = now
    }

    var topology: Topology { self.configuration.topology }

    /// Declares the topology and consumes both queues until graceful shutdown.
    public func run(on connection: AMQPConnection) async throws {
        try await connection.withTemporaryChannel { try await self.declarer.declareShared(on: $0) }
        let publisher = try await AMQPChannel.confirming(on: connection)
        let sessions = SharedRecentQueues(lifetime: self.sessionMemory)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.consumeLogins(connection: connection, publisher: publisher, sessions: sessions) }
            group.addTask { try await self.consumePosts(connection: connection, publisher: publisher, sessions: sessions) }
            try await group.waitForAllOrFirstFailure()
        }
        try? await publisher.close()
    }

    func consumer(on connection: AMQPConnection, queue: String) async throws -> AMQPConsumer {
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: self.prefetch)
        return try await channel.consume(queue: queue)
    }

    /// The rooms `login` belongs to (general alone without a store), within `storeTimeout`.
    func roomIDs(of login: String) async throws -> [String] {
        guard let rooms = self.rooms else { return [ChatRoom.general] }
        return try await withDeadline(Self.storeTimeout, "the rooms of \(login)") { try await rooms.roomIDs(of: login) }
    }

    /// Whether `login` may post to `room` (always for general), within `storeTimeout`.
    func mayPost(_ login: String, room: String) async throws -> Bool {
        guard room != ChatRoom.general else { return true }
        guard let rooms = self.rooms else { return false }
        let member = try await withDeadline(Self.storeTimeout, "the membership of \(login) in \(room)") {
            try await rooms.isMember(room: room, member: login)
        }
        return MembershipRules.mayPost(roomID: room, isMember: member)
    }

    /// The bound on one store question.
    static let storeTimeout: Duration = .seconds(5)

    /// Publishes a presence event (kept in history) or an `online` event (transient, expiring
    /// after ``onlineEventLifetimeMs``) to `general`, which every tab gets.
    func announce(_ text: String, from login: String, kind: EventKind = .presence, publisher: AMQPChannel) async throws {
        let event = RoomEvent(id: self.ids.nextString(), kind: kind, from: login, text: text, at: self.now())
        try await publisher.publish(roomEvent: event, topology: self.topology, expiresMs: kind.isStored ? nil : Self.onlineEventLifetimeMs)
    }

    /// How long an `online` event waits in a tab queue: a tab away longer asks for the members again.
    static let onlineEventLifetimeMs = 10_000

    // MARK: Posts

    private func consumePosts(connection: AMQPConnection, publisher: AMQPChannel, sessions: SharedRecentQueues) async throws {
        let consumer = try await self.consumer(on: connection, queue: self.topology.inbox)
        let pool = AMQPChannelPool(connection: connection, maxIdle: 1)  // one check at a time here
        let probe = QueueProbe(pool: pool, recent: sessions)
        // Posts are checked and published one after another, in order; an accepted post's ack
        // waits for the broker's confirm beside the loop (one `multiple` ack per run of
        // confirms), so the next post does not wait for it. At most `prefetch` posts are
        // unacked, which bounds the acks waiting.
        //
        // Graceful shutdown cancels the consumer (basic.cancel) rather than the loop: no new
        // post comes, the ones already delivered are still handled, the loop ends, and the
        // acks waiting are sent before the channel closes. (`cancelOnGracefulShutdown()` would
        // pass every delivery through one more task.)
        let acks = ConfirmedAcks()
        try await withThrowingTaskGroup(of: PostsTask.self) { group in
            group.addTask {
                try await acks.run()
                return .acks
            }
            group.addTask {
                defer { acks.finish() }
                for try await delivery in consumer {
                    if let published = try await self.handlePost(delivery, probe: probe, publisher: publisher) {
                        acks.add(delivery, after: published)
                    }
                }
                return .loop
            }
            group.addTask {
                if (try? await gracefulShutdown()) != nil { try? await consumer.cancel() }
                return .shutdownWatch
            }
            // The first failure ends the group (the other tasks are cancelled and awaited);
            // once the loop and the acks are done, the watch is cancelled.
            var running = 2
            for try await finished in group where finished != .shutdownWatch {
                running -= 1
                if running == 0 { group.cancelAll() }
            }
        }
        await pool.close()
        try? await consumer.channel.close()
    }

    /// The tasks of ``consumePosts(connection:publisher:)``.
    private enum PostsTask: Sendable {
        case loop, acks, shutdownWatch
    }

    /// Checks one post and publishes what it leads to. For an accepted post the publish is
    /// only started and returned: the post is to be acked once it is confirmed. Every other
    /// outcome is finished (published, confirmed, acked or dead-lettered) on return.
    func handlePost(_ delivery: AMQPDelivery, probe: QueueProbe, publisher: AMQPChannel) async throws -> AMQPPendingPublish? {
        let post: InboxPost
        do {
            post = try InboxPost.decode(delivery.body.readableBytesView)
        } catch {
            PostTrail.refused(.malformedRequest, clientId: nil, logger: self.logger)
            try await delivery.deadLetter("post refused: \(error)", logger: self.logger)
            return nil
        }
        if let onBehalf = delivery.properties.headers?[PostAuthor.onBehalfHeader] {
            try await self.handleAPIPost(delivery, post: post, onBehalfOf: onBehalf.stringValue, publisher: publisher)
            return nil
        }
        if let reason = PostAuthor.refusal(userID: delivery.properties.userID, login: post.login, required: self.configuration.brokerAuth) {
            PostTrail.refused(.loginNotVouched, clientId: post.clientId, logger: self.logger)
            try await delivery.deadLetter("post refused: \(reason)", logger: self.logger)
            return nil
        }
        if post.isTyping {
            return try await self.handleTyping(delivery, post: post, probe: probe, publisher: publisher)
        }
        switch PostAdmission.admit(post, topology: self.topology) {
        case .accepted(let accepted, let queue):
            guard try await probe.exists(queue) else {
                PostTrail.refused(PostMetrics.unknownSession, clientId: post.clientId, logger: self.logger)
                try await delivery.deadLetter("post refused: no queue \(queue) (unknown or expired session)", logger: self.logger)
                return nil
            }
            guard try await self.mayPost(accepted.login, room: accepted.room) else {
                // Nothing reaches the room: the author hears why, in their own tab only.
                PostTrail.refused(Refusal.Code.roomNotMember, clientId: post.clientId, logger: self.logger)
                try await self.tellRefused(Self.notMember(accepted.room), clientId: post.clientId, queue: queue, room: accepted.room, publisher: publisher)
                self.logger.info("post refused", metadata: ["code": "\(Refusal.Code.roomNotMember)", "room": "\(accepted.room)", "queue": "\(queue)"])
                break
            }
            let event = self.event(for: accepted)
            let published = self.startPublish(accepted, event: event, replyQueue: queue, publisher: publisher)
            self.logger.debug("post accepted", metadata: ["id": "\(event.id)", "route": "\(accepted.route.rawValue)", "room": "\(event.room)"])
            return published
        case .refused(let refusal, let queue?):
            PostTrail.refused(refusal.code, clientId: post.clientId, logger: self.logger)
            guard try await probe.exists(queue) else {
                try await delivery.deadLetter("post refused (\(refusal)) and no queue \(queue) to tell", logger: self.logger)
                return nil
            }
            try await self.tellRefused(refusal, clientId: post.clientId, queue: queue, room: post.room, publisher: publisher)
            self.logger.info("post refused", metadata: ["code": "\(refusal.code)", "queue": "\(queue)"])
        case .refused(let refusal, nil):
            PostTrail.refused(refusal.code, clientId: post.clientId, logger: self.logger)
            try await delivery.deadLetter("post refused: \(refusal); no valid session to tell", logger: self.logger)
            return nil
        }
        try await delivery.ack()
        return nil
    }

    /// The refusal of a post to a room its author is not in.
    static func notMember(_ room: String) -> Refusal {
        Refusal(.roomNotMember, "You are not a member of \(room); join it (or be invited) to post there.")
    }

    /// Publishes an accepted post: a plain one to its room (`room.<id>` on the rooms exchange)
    /// and to the posts exchange (`post.plain`, for the reverser); a `!pow` / `!rpc` one to the
    /// posts exchange only, held back from the room until proven. The result is confirmed once
    /// every publish of the post is.
    func startPublish(_ accepted: AcceptedPost, event: RoomEvent, replyQueue: String?, publisher: AMQPChannel) -> AMQPPendingPublish {
        let headers: FieldTable? = accepted.route == .plain || replyQueue == nil ? nil : [Topology.replyQueueHeader: .string(replyQueue!)]
        let toBots = publisher.startPublish(
            event, exchange: self.topology.posts, routingKey: accepted.route.routingKey,
            properties: WarrenProperties.persistent(messageID: event.id, headers: headers)
        )
        guard accepted.route == .plain else { return toBots }
        return publisher.startPublish(roomEvent: event, topology: self.topology).and(toBots)
    }

    /// Tells one tab why its post was refused, with an `error` event in its queue only.
    func tellRefused(_ refusal: Refusal, clientId: String, queue: String, room: String?, publisher: AMQPChannel) async throws {
        var event = RoomEvent.refusal(refusal, id: self.ids.nextString(), from: "warren", at: self.now(), clientId: clientId)
        event.inReplyTo = clientId
        if let room = try? Validation.roomID(room ?? ChatRoom.general) { event.room = room }
        try await publisher.publish(event, routingKey: queue, properties: WarrenProperties.persistent(messageID: event.id))
    }

    /// The event of an accepted post: the one it was admitted as lately, if it was (see
    /// ``AdmittedPosts``), else a new one.
    func event(for accepted: AcceptedPost) -> RoomEvent {
        let (admission, again) = self.admitted.admission(of: accepted) {
            AdmittedPosts.Admission(id: self.ids.nextString(), at: self.now())
        }
        if again {
            self.logger.info("post admitted again under its first event id", metadata: ["id": "\(admission.id)", "clientId": "\(accepted.clientId)"])
        }
        let event = accepted.event(id: admission.id, at: admission.at)
        PostTrail.admitted(event, route: accepted.route.rawValue, logger: self.logger)
        return event
    }
}
