import AMQPClient
import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import WarrenCore
import WarrenOps

/// Logins: many at once, each bounded, none able to stop the others.
///
/// A storm of logins (every tab of a restarted broker comes back in the same second) is the
/// normal case. Up to ``LoginRole/loginConcurrency`` requests are handled at once; requests for
/// one tab take turns (``KeyedTurns``). Broker calls that may fail on the broker's side (a passive
/// declare of a queue that is not there closes its channel) borrow a channel of their own from
/// a pool, so no login opens and closes a channel, and a tab that says it is new
/// (`"resume": false`) is not asked about at all. A login that does not finish within
/// ``LoginRole/loginTimeout`` is answered with `service.busy` and acknowledged, so the page
/// tries again later and the loop goes on; a loop where nothing finishes while logins wait is
/// noticed by a ``ProgressWatch`` and logged.
extension LoginRole {
    /// What one login needs besides the request.
    struct LoginContext: Sendable {
        let connection: AMQPConnection
        let publisher: AMQPChannel
        let pool: AMQPChannelPool
        let backfill: Backfill?
        let sessions: SharedRecentQueues?
        let presence: SharedPresence
        /// The people whose exchange and room bindings this run declared a short while ago.
        let people: SharedRecentQueues
    }

    func consumeLogins(connection: AMQPConnection, publisher: AMQPChannel, sessions: SharedRecentQueues) async throws {
        let consumer = try await self.consumer(on: connection, queue: self.topology.login)
        let pool = AMQPChannelPool(connection: connection, maxIdle: self.loginConcurrency)
        let backfill = Backfill(connection: connection, configuration: self.configuration, logger: self.logger, pool: pool)
        let presence = SharedPresence(window: Self.presenceWindow, deliveriesPerSecond: Self.presenceDeliveriesPerSecond) {
            sessions.count
        }
        let context = LoginContext(
            connection: connection, publisher: publisher, pool: pool, backfill: backfill, sessions: sessions, presence: presence,
            people: SharedRecentQueues(lifetime: self.sessionMemory)
        )
        let turns = KeyedTurns()
        let watch = SharedProgressWatch(patience: self.loginTimeout * 2)
        try await withThrowingTaskGroup(of: Void.self) { outer in
            outer.addTask { try await self.watchLogins(watch) }
            outer.addTask { try await self.sendPresenceWhenDue(presence, publisher: publisher) }
            outer.addTask { try await self.watchOnlineQueues(connection: connection, pool: pool, presence: presence, publisher: publisher) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for try await delivery in consumer.cancelOnGracefulShutdown() {
                    if running >= self.loginConcurrency {
                        _ = try await group.next()
                        running -= 1
                    }
                    running += 1
                    watch.started()
                    group.addTask {
                        defer { self.report(watch.finished()) }
                        try await self.handleLoginInTime(delivery, context: context, turns: turns)
                    }
                }
                try await group.waitForAll()
            }
            outer.cancelAll()
        }
        await self.announce(presence.due(all: true), publisher: publisher)
        await backfill.close()
        await pool.close()
        try? await consumer.channel.close()
    }

    /// How long joins and leaves after an announcement are gathered into one (``PresenceBatcher``).
    static let presenceWindow: Duration = .milliseconds(250)
    /// What presence may cost the broker, in deliveries a second: the window grows with the tabs
    /// this service has seen lately (its session memory), so 5,000 tabs signing in get one
    /// presence event every 2.5 s. A tenth of the 18–30 k deliveries a second a 2-core node
    /// fans out (Benchmarks/tabs/README.md), the rest left for posts.
    static let presenceDeliveriesPerSecond = 2_000

    /// Sends the gathered joins and leaves once their window has ended, until cancelled.
    private func sendPresenceWhenDue(_ presence: SharedPresence, publisher: AMQPChannel) async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(50))
            await self.announce(presence.due(), publisher: publisher)
        }
    }

    /// Publishes presence events to the room; a failure is logged (presence is a nicety).
    func announce(_ announcements: [PresenceBatcher.Announcement], publisher: AMQPChannel) async {
        for announcement in announcements {
            let from = announcement.names.count == 1 ? announcement.names[0] : "warren"
            do {
                try await withDeadline(.seconds(5), "a presence event") {
                    try await self.announce(announcement.text, from: from, kind: announcement.change.kind, publisher: publisher)
                }
            } catch {
                self.logger.warning("presence not announced", metadata: ["text": "\(announcement.text)", "error": "\(error)"])
            }
        }
    }

    /// Checks the watch every few seconds until cancelled.
    private func watchLogins(_ watch: SharedProgressWatch) async throws {
        let interval = min(self.loginTimeout, .seconds(5))
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            self.report(watch.checked())
        }
    }

    private func report(_ verdict: ProgressWatch.Verdict) {
        switch verdict {
        case .fine:
            break
        case .stalled(let inFlight, let since):
            self.logger.error(
                "no login finished while logins wait: the broker or a role behind it does not answer",
                metadata: ["waiting": "\(inFlight)", "since": "\(since)"]
            )
        case .recovered(let after):
            self.logger.notice("logins are moving again", metadata: ["stalledFor": "\(after)"])
        }
    }

    /// Handles one request within ``loginTimeout``; a login that runs out of time or fails on
    /// the broker's side is answered with `service.busy` and acknowledged. Throws only when the
    /// connection is gone, which ends the role (and its supervisor reconnects).
    func handleLoginInTime(_ delivery: AMQPDelivery, context: LoginContext, turns: KeyedTurns) async throws {
        let key = LoginRequest.turnKey(of: delivery.body.readableBytesView)
        // A login abandoned at its deadline may still be running: whichever of it and the busy
        // answer comes first settles the delivery, the other leaves it alone.
        let settled = SettleOnce()
        do {
            try await turns.run(key) {
                try await withDeadline(self.loginTimeout, "a login request") {
                    try await self.handleLogin(delivery, context: context, settled: settled)
                }
            }
        } catch {
            // Stopped from outside (the role is being torn down): leave the request unsettled,
            // so the broker gives it to another copy once this channel closes.
            if Task.isCancelled { return }
            guard settled.claim() else { return }
            if !context.connection.isActive { throw error }
            self.logger.warning("login request not finished; answered busy", metadata: ["error": "\(error)"])
            let refusal = Refusal(.serviceBusy, "The chat is busy; trying again shortly.")
            try? await withDeadline(.seconds(2), "a busy reply") {
                try await self.reply(
                    LoginReply.failure(refusal), to: delivery.properties.replyTo, correlationID: delivery.properties.correlationID,
                    publisher: context.publisher
                )
            }
            try? await delivery.ack()
        }
    }

    func handleLogin(_ delivery: AMQPDelivery, context: LoginContext, settled: SettleOnce = SettleOnce()) async throws {
        let replyTo = delivery.properties.replyTo
        let correlationID = delivery.properties.correlationID
        let publisher = context.publisher
        let request: LoginRequest
        do throws(Refusal) {
            request = try LoginRequest.decode(delivery.body.readableBytesView).validate()
        } catch {
            try await self.reply(LoginReply.failure(error), to: replyTo, correlationID: correlationID, publisher: publisher)
            if settled.claim() { try await delivery.deadLetter("login request refused: \(error)", logger: self.logger) }
            return
        }
        if let reason = PostAuthor.refusal(userID: delivery.properties.userID, login: request.login, required: self.configuration.brokerAuth) {
            let refusal = Refusal(.loginNotVouched, "You are not signed in as \(request.login).")
            try await self.reply(LoginReply.failure(refusal), to: replyTo, correlationID: correlationID, publisher: publisher)
            if settled.claim() { try await delivery.deadLetter("login request refused: \(reason)", logger: self.logger) }
            return
        }
        try await self.beforeHandling?(request)
        let queue = self.topology.userQueue(login: request.login, session: request.session)
        var logger = self.logger
        logger[metadataKey: "login"] = "\(request.login)"
        logger[metadataKey: "queue"] = "\(queue)"
        // A session the tab has just made has no queue yet: nothing to ask.
        let existed = request.action == .login && !request.mayExist ? false : try await QueueProbe(pool: context.pool).exists(queue)
        switch request.action {
        case .login:
            let rooms = try await self.routePerson(request.login, context: context)
            do {
                try await context.pool.withChannel { try await self.declarer.declareUserQueue(queue, login: request.login, on: $0) }
            } catch let error as AMQPError where error.code == .preconditionFailed {
                // The queue exists with other arguments (the configuration changed): it still works.
                logger.warning("tab queue exists with other arguments; using it as it is", metadata: ["error": "\(error)"])
            }
            // At every login, not once per person: the tab subscribes to it after this reply,
            // and a subscription the broker refuses closes the tab's socket.
            do {
                try await context.pool.withChannel { try await self.declarer.declareOnlineQueue(request.login, on: $0) }
            } catch let error as AMQPError where error.code == .preconditionFailed {
                logger.warning("online queue exists with other arguments; using it as it is", metadata: ["error": "\(error)"])
            }
            context.sessions?.insert(queue)
            // After the binding, so backfill and live delivery meet with no gap (see HistoryRole).
            if !existed {
                let backfillRooms = try await rooms.get(or: { try await self.roomIDs(of: request.login) })
                try await context.backfill?.fill(queue, rooms: backfillRooms, publisher: publisher)
            }
            try await self.reply(
                LoginReply.success(queue: queue, login: request.login, session: request.session, online: self.topology.onlineQueue(login: request.login)),
                to: replyTo, correlationID: correlationID, publisher: publisher
            )
            if !existed {
                await self.announce(context.presence.changed(.joined, request.login), publisher: publisher)
            }
            logger.info(existed ? "tab came back" : "logged in")
            PostMetrics.loggedIn(new: !existed)
        case .logout:
            if existed {
                try await context.pool.withChannel { _ = try await $0.queueDelete(queue) }
            }
            // After the delete: a post loop's passive declare answered before it is not kept.
            context.sessions?.remove(queue)
            try await self.reply(
                LoginReply(ok: true, queue: queue, login: request.login, session: request.session),
                to: replyTo, correlationID: correlationID, publisher: publisher
            )
            if existed {
                await self.announce(context.presence.changed(.left, request.login), publisher: publisher)
            }
            logger.info("logged out")
            PostMetrics.loggedOut(existed: existed)
        }
        if settled.claim() { try await delivery.ack() }
    }

    /// Makes sure `login`'s exchange exists and is bound to each of their rooms, unless this run
    /// did so within the session memory: the broker's routing is rebuilt from the store at
    /// login, so a broker that lost its state needs no other step (a new connection is a new
    /// run, with nothing remembered). Returns the rooms when it had to read them.
    ///
    /// A room left while this runs (the store changed after it was read) could be bound again
    /// here after its leave unbound it; the rooms are read once more after binding and any room
    /// gone meanwhile is unbound, so a leave always wins.
    func routePerson(_ login: String, context: LoginContext) async throws -> KnownRooms {
        let person = self.topology.person(login)
        if context.people.contains(person) { return KnownRooms(ids: nil) }
        let mark = context.people.mark
        let rooms = try await self.roomIDs(of: login)
        try await context.pool.withChannel { try await self.declarer.declarePerson(login, rooms: rooms, on: $0) }
        if self.rooms != nil {
            let now = Set(try await self.roomIDs(of: login))
            let gone = rooms.filter { !now.contains($0) }
            if !gone.isEmpty {
                try await context.pool.withChannel { channel in
                    for room in gone { try await self.declarer.unbindMember(login, room: room, on: channel) }
                }
            }
        }
        context.people.insert(person, unlessRemovedSince: mark)
        self.logger.debug("person routed", metadata: ["login": "\(login)", "rooms": "\(rooms.count)"])
        return KnownRooms(ids: rooms)
    }

    /// Rooms read during a login, if they were.
    struct KnownRooms {
        let ids: [String]?

        func get(or read: () async throws -> [String]) async throws -> [String] {
            if let ids { return ids }
            return try await read()
        }
    }

    /// Replies when the request named a reply queue (a logout need not).
    private func reply(_ reply: LoginReply, to replyTo: String?, correlationID: String?, publisher: AMQPChannel) async throws {
        guard let replyTo, !replyTo.isEmpty else { return }
        try await publisher.publishReply(reply, to: replyTo, correlationID: correlationID)
    }
}

/// Lets one of several parties settle a delivery.
final class SettleOnce: Sendable {
    private let taken = NIOLockedValueBox(false)

    /// True for the first caller only.
    func claim() -> Bool {
        self.taken.withLockedValue { taken in
            defer { taken = true }
            return !taken
        }
    }
}
