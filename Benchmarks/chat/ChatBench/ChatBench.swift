import AMQPClient
import AMQPProtocol
import Foundation
import Logging
import NIOCore
import WarrenCore
import WarrenServices
import WarrenStore

/// The chat benchmark: N tabs, posts at a paced rate and at full speed, through the login
/// service, through a relay that only forwards (``BenchRelay``), and, as the ceiling, straight
/// to the room fanout; latency from post to delivery in every tab, the delivery rate, and the
/// CPU each process used.
///
/// Each tab count runs on a fresh topology prefix with its own login service (the real
/// `LoginRole`, with the relay beside it, in a child process unless
/// ``ChatBenchOptions/loginExecutable`` is nil). The reverser is not run and its queue is
/// unbound from the posts exchange, so every path ends in exactly the same N queues. Every
/// phase is bounded by the timeout and fails, rather than hangs, when deliveries go missing.
public struct ChatBench: Sendable {
    /// What to run.
    public let options: ChatBenchOptions
    /// Progress goes here (notice level), diagnostics at debug.
    public let logger: Logger

    /// Creates the benchmark.
    public init(options: ChatBenchOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Runs every tab count (in each room layout); `measured` sees each phase's result as soon
    /// as it is measured, `membership` each membership probe of rooms mode.
    /// - Throws: ``ChatBenchError`` when the broker cannot be reached or the set-up fails;
    ///   a phase whose deliveries do not all arrive is a result with an `error`, not a throw.
    public func run(
        measured: @Sendable (ChatBenchResult) -> Void = { _ in }, membership: @Sendable (MembershipCost) -> Void = { _ in },
        nodeLoss lossMeasured: @Sendable (NodeLossResult) -> Void = { _ in }
    ) async throws -> [ChatBenchResult] {
        try self.options.validate()
        if let loss = self.options.nodeLoss {
            // Node-loss mode: that alone, with the first tab count.
            try await self.withChat(tabs: self.options.tabCounts[0], rooms: 1) { chat in
                lossMeasured(try await self.nodeLoss(chat, loss))
            }
            return []
        }
        var results: [ChatBenchResult] = []
        var phase = 0
        for tabs in self.options.tabCounts {
            for rooms in self.options.layouts {
                try await self.withChat(tabs: tabs, rooms: rooms) { chat in
                    for round in 1...self.options.rounds {
                        for load in [ChatBenchResult.Load.paced, .full] {
                            // The relay forwards to general only.
                            let relay = self.options.relayPath && rooms == 1
                            let paths: [ChatBenchResult.Path] =
                                [.bare] + (self.options.bareWithConfirms ? [.bareConfirmed] : []) + (relay ? [.relay] : []) + [.login]
                                + (self.options.metricsPath ? [.loginMetrics] : [])
                            for path in paths {
                                phase += 1
                                if path == .loginMetrics { chat.login.switchMetrics(on: true) }
                                defer { if path == .loginMetrics { chat.login.switchMetrics(on: false) } }
                                let result = try await self.phase(phase, chat: chat, load: load, path: path, round: round)
                                measured(result)
                                results.append(result)
                                try await Task.sleep(for: .milliseconds(300))  // let the broker settle between phases
                            }
                        }
                    }
                    if rooms > 1, self.options.membershipProbe > 0 {
                        membership(try await self.membershipCost(chat, perPerson: self.options.membershipProbe))
                    }
                }
            }
        }
        return results
    }

    /// What one tab count's run holds.
    struct Chat {
        let topology: Topology
        /// The rooms the tabs are spread over (1: general alone).
        let rooms: Int
        let tabs: BenchTabs
        let router: DeliveryRouter
        let poster: AMQPChannel
        let confirmingPoster: AMQPChannel
        let cpu: ProcessCPU
        let login: BenchLoginService
        /// The set-up's connection (the first node), which the posters' channels are on.
        let admin: AMQPConnection
        /// The broker's nodes (one unless the URL lists a cluster's).
        let endpoints: [AMQPConfiguration.Endpoint]
        let ids = EventIDGenerator()

        /// The id of room `index` of the layout: general when there is one room.
        func roomID(_ index: Int) -> String { Self.roomID(index, of: self.rooms) }

        static func roomID(_ index: Int, of rooms: Int) -> String { rooms == 1 ? ChatRoom.general : "r\(index)" }
    }

    /// The login service's configuration for one run, in this process or the child. The tabs
    /// post over AMQP on the service account, which cannot vouch for a tab's login (user_id), so
    /// the login service runs without that check (`scripts/bench auth` measures broker auth).
    /// The tabs read general from their own queues, so general's stream is off here
    /// (`scripts/bench tabs --general-stream` measures the stream with Web-STOMP tabs).
    static func configuration(url: String, prefix: String) throws -> WarrenConfiguration {
        try WarrenConfiguration.load(
            environment: ["WARREN_AMQP_URL": url, "WARREN_PREFIX": prefix, "WARREN_BROKER_AUTH": "off", "WARREN_GENERAL_STREAM": "off"],
            envFile: nil
        )
    }

    private func withChat(tabs count: Int, rooms: Int, _ body: (Chat) async throws -> Void) async throws {
        let prefix = "bench\(UInt32.random(in: 0...UInt32.max))"
        // Rooms mode: the rooms and memberships in a store of the run's own, which the login
        // service reads (to bind each person's exchange to their rooms, and to check each post).
        let store = rooms > 1 ? try await BenchRooms.make(tabs: count, rooms: rooms, logger: self.logger) : nil
        do {
            try await self.withChat(tabs: count, rooms: rooms, prefix: prefix, store: store, body)
        } catch {
            await store?.close()
            throw error
        }
        await store?.close()
    }

    private func withChat(tabs count: Int, rooms: Int, prefix: String, store: BenchRooms?, _ body: (Chat) async throws -> Void) async throws {
        let configuration: WarrenConfiguration
        var amqp: AMQPConfiguration
        do {
            configuration = try Self.configuration(url: self.options.url, prefix: prefix)
            // One node, or a comma list of a cluster's nodes: the set-up and the poster use the
            // first, the tabs' connections go round the nodes (BenchTabs).
            amqp = try AMQPConfiguration(urlList: configuration.amqpURL)
        } catch {
            throw ChatBenchError("bad broker URL \(self.options.url): \(error)")
        }
        amqp.connectionTimeout = .seconds(10)
        amqp.connectionName = "chat-bench"
        let topology = configuration.topology
        let admin: AMQPConnection
        do {
            admin = try await AMQPConnection.connect(configuration: amqp, logger: self.logger)
        } catch {
            throw ChatBenchError("cannot connect to the broker at \(amqp.host):\(amqp.port) (vhost \(amqp.virtualHost)): \(error). Start one (`scripts/bench chat` starts a private broker) or pass --url.")
        }
        let declarer = TopologyDeclarer(configuration: configuration)
        let nodes = amqp
        let login: BenchLoginService
        var tabs: BenchTabs?
        var poster: AMQPChannel?
        var confirmingPoster: AMQPChannel?
        let router = DeliveryRouter()
        let outcome: Result<Void, any Error>
        do {
            try await self.deadline("declaring the topology") {
                // Node-loss mode declares them on the node to lose, which then leads the quorum
                // queues (queue_leader_locator client-local, the default).
                var declaring: AMQPConnection?
                if let loss = self.options.nodeLoss {
                    declaring = try await AMQPConnection.connect(configuration: nodes.aimed(at: nodes.endpoints[loss.node - 1]), logger: self.logger)
                }
                let channel = try await (declaring ?? admin).openChannel()
                try await declarer.declareShared(on: channel)
                try await channel.queueDeclare(BenchRelay.queue(topology), durable: true)
                try await channel.close()
                try await declaring?.close()
            }
            login = try await BenchLoginService.start(
                configuration: configuration, amqp: amqp, options: self.options, store: store, logger: self.logger
            )
        } catch {
            try? await admin.close()
            throw error
        }
        do {
            let memory = self.options.sessionMemory.map { "\($0)" } ?? "default (WARREN_SESSION_MEMORY_MS)"
            self.logger.notice(
                "logging \(count) tabs in through the login service",
                metadata: ["prefix": "\(prefix)", "rooms": "\(rooms)", "sessionMemory": "\(memory)"]
            )
            let started = monotonicNanoseconds()
            let made = try await BenchTabs.login(
                count: count, amqp: amqp, topology: topology, router: router, timeout: self.options.timeoutSeconds, logger: self.logger
            )
            tabs = made
            let loginSeconds = Double(monotonicNanoseconds() - started) / 1e9
            self.logger.notice("tabs logged in", metadata: ["tabs": "\(count)", "seconds": "\(String(format: "%.2f", loginSeconds))"])
            // The posts exchange also feeds the reverser's queue; nobody consumes it here.
            try await self.deadline("unbinding the reverser") {
                let channel = try await admin.openChannel()
                try await channel.queueUnbind(queue: topology.botReverser, exchange: topology.posts, routingKey: Topology.reverserBindingKey)
                try await channel.close()
            }
            // The login service announces the logins to the tabs already there (gathered into one
            // event per 250 ms when they come together): wait until they have stopped arriving.
            try await self.deadline("the presence events of the logins") {
                var seen = -1
                while true {
                    let now = router.others.withLockedValue { $0 }
                    if now == seen, now >= count { return }
                    seen = now
                    try await Task.sleep(for: .milliseconds(600))
                }
            }
            let channel = try await admin.openChannel()
            poster = channel
            let confirming = try await admin.openChannel()
            confirmingPoster = confirming
            try await confirming.confirmSelect()
            let cpu = ProcessCPU(broker: ProcessCPU.brokerFromEnvironment, loginService: login.childPID)
            try await body(
                Chat(
                    topology: topology, rooms: rooms, tabs: made, router: router, poster: channel, confirmingPoster: confirming, cpu: cpu,
                    login: login, admin: admin, endpoints: amqp.endpoints
                )
            )
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        router.stop()
        try? await poster?.close()
        try? await confirmingPoster?.close()
        await login.stop()
        await tabs?.close()
        if let channel = try? await admin.openChannel() {
            for tab in tabs?.tabs ?? [] {
                _ = try? await channel.queueDelete(tab.queue)
                try? await channel.exchangeDelete(topology.person(tab.login))
            }
            for queue in declarer.workQueues + [topology.dead, BenchRelay.queue(topology)] { _ = try? await channel.queueDelete(queue) }
            try? await channel.exchangeDelete(topology.posts)
            try? await channel.exchangeDelete(topology.rooms)
            try? await channel.close()
        }
        try? await admin.close()
        try outcome.get()
    }

    private func deadline(_ what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withDeadline(.seconds(self.options.timeoutSeconds), what, body)
    }

    private func phase(_ number: Int, chat: Chat, load: ChatBenchResult.Load, path: ChatBenchResult.Path, round: Int) async throws -> ChatBenchResult {
        let tabs = chat.tabs.tabs
        let count = tabs.count
        let rooms = chat.rooms
        // Each post goes to one room, so it reaches that room's tabs: its audience.
        let audience = count / rooms
        let posts = load == .paced ? self.options.pacedPosts(tabs: audience) : self.options.fullPosts(tabs: audience)
        let rate = load == .paced ? self.options.pacedRate(tabs: audience) : nil
        let window = self.options.window(tabs: audience, rooms: rooms)
        self.logger.notice("phase", metadata: [
            "tabs": "\(count)", "rooms": "\(rooms)", "load": "\(load.rawValue)", "path": "\(path.rawValue)", "posts": "\(posts)",
            "round": "\(round)",
        ])

        // Bodies are made before the clock starts, so the poster costs the same in both paths.
        // Post `seq` goes to room `seq % rooms`, from the room's members in turn (tab t is in
        // room t % rooms, as DeliveryTracker counts).
        var persistent = BasicProperties(contentType: "application/json", deliveryMode: BasicProperties.persistentDeliveryMode)
        var messages: [(body: ByteBuffer, properties: BasicProperties, routingKey: String)] = []
        messages.reserveCapacity(posts)
        for seq in 0..<posts {
            let room = seq % rooms
            let tab = tabs[room + rooms * ((seq / rooms) % audience)]
            let roomID = chat.roomID(room)
            let clientId = BenchClientID.make(phase: number, seq: seq)
            let text = "bench post \(seq) of phase \(number)"
            switch path {
            case .bare, .bareConfirmed, .relay:
                let event = RoomEvent(id: chat.ids.nextString(), kind: .message, from: tab.login, text: text, at: Date(), clientId: clientId, room: roomID)
                persistent.messageID = event.id
                let key = path == .relay ? BenchRelay.queue(chat.topology) : Topology.roomKey(roomID)
                messages.append((ByteBuffer(bytes: event.encode()), persistent, key))
            case .login, .loginMetrics:
                let post = InboxPost(text: text, clientId: clientId, login: tab.login, session: tab.session, room: rooms == 1 ? nil : roomID)
                messages.append((ByteBuffer(bytes: post.encode()), persistent, chat.topology.inbox))
            }
        }
        let exchange = path == .bare || path == .bareConfirmed ? chat.topology.rooms : ""
        let bodies = messages

        let tracker = DeliveryTracker(posts: posts, tabs: count, rooms: rooms)
        chat.router.start(phase: number, tracker: tracker)
        defer { chat.router.stop() }
        let timeout = self.options.timeoutSeconds
        let poster = path == .bareConfirmed ? chat.confirmingPoster : chat.poster
        let cpuAtStart = chat.cpu.read()
        let started = ContinuousClock.now
        var error: String?
        do {
            try await withDeadline(.seconds(timeout), "the poster (\(tracker.snapshot().sent) of \(posts) posts sent)") {
                let start = monotonicNanoseconds()
                var unconfirmed: [AMQPPendingPublish] = []
                for seq in 0..<posts {
                    if let rate {
                        let due = start + UInt64(Double(seq) / rate * 1e9)
                        let now = monotonicNanoseconds()
                        if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                    }
                    await tracker.waitForWindow(window)
                    try Task.checkCancellation()
                    tracker.sending(seq, at: monotonicNanoseconds())
                    let published = poster.startPublish(
                        body: bodies[seq].body, exchange: exchange, routingKey: bodies[seq].routingKey, properties: bodies[seq].properties
                    )
                    // Without confirm mode this is the socket write; with it, the broker's
                    // confirm, awaited oldest first once `window` are outstanding.
                    unconfirmed.append(published)
                    if unconfirmed.count >= window { try await unconfirmed.removeFirst().confirmed() }
                }
                for pending in unconfirmed { try await pending.confirmed() }
            }
            let left = max(1, timeout - Self.seconds(since: started))
            if try await !tracker.waitForAll(within: left) {
                let snapshot = tracker.snapshot()
                error = "\(snapshot.delivered) of \(posts * count) deliveries arrived within \(Int(timeout)) s"
            }
        } catch let failure {
            error = "\(failure)"
        }
        let cpu = chat.cpu.read().since(cpuAtStart)
        var result = ChatBenchResult(tabs: count, load: load, path: path, round: round, target: rate, window: window, snapshot: tracker.snapshot(), error: error)
        result.cpu = ChatBenchResult.CPU(reading: cpu, wallSeconds: Self.seconds(since: started))
        if let error { self.logger.error("phase failed", metadata: ["error": "\(error)"]) }
        return result
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).inSeconds
    }
}

extension Duration {
    /// This duration in seconds, as a floating-point number.
    var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
