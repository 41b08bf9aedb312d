import AMQPClient
import AMQPProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// Runs Warren's roles in-process against the test broker, each on its own connection, under a
/// random topology prefix, and plays browser tabs over AMQP.
final class ChatHarness: Sendable {
    let configuration: WarrenConfiguration
    let amqp: AMQPConfiguration
    let logger: Logger
    /// The harness's own connection: declarations, checks and the tabs.
    let connection: AMQPConnection
    private let running = NIOLockedValueBox<[(connection: AMQPConnection, task: Task<Void, Never>)]>([])
    /// Everyone who logged a tab in, whose person exchange goes at the end.
    let people = NIOLockedValueBox<Set<String>>([])

    var topology: Topology { self.configuration.topology }

    private init(configuration: WarrenConfiguration, amqp: AMQPConfiguration, connection: AMQPConnection) {
        self.configuration = configuration
        self.amqp = amqp
        self.connection = connection
        var logger = Logger(label: "warren.test")
        logger.logLevel = ProcessInfo.processInfo.environment["WARREN_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        self.logger = logger
    }

    /// Runs `body` with a fresh prefix, then stops every role and deletes the prefix's names.
    ///
    /// Broker auth is off unless `environment` says otherwise: the harness plays tabs over AMQP
    /// on the service account, whose broker-validated `user_id` can never be a tab's login, so
    /// with the default (on) the login service refuses every such tab. Tests of the check itself
    /// pass `WARREN_BROKER_AUTH` (an empty value means the default).
    static func with(
        environment: [String: String] = [:],
        timeout seconds: Double = 30,
        _ body: @escaping @Sendable (ChatHarness) async throws -> Void
    ) async throws {
        var env = [
            "WARREN_AMQP_URL": BrokerEnvironment.amqpURL.absoluteString,
            "WARREN_PREFIX": "t\(UInt32.random(in: 0...UInt32.max))",
            "WARREN_POW_BITS": "12",
            "WARREN_RPC_TIMEOUT_MS": "5000",
            "WARREN_USER_QUEUE_TTL_MS": "60000",
            "WARREN_CRON_SCHEDULE": "@every 1s",
            "WARREN_BROKER_AUTH": "off",
            // The tests' AMQP tabs read general from their queues; the stream (the default, which
            // the page reads) is tested by ChatGeneralStreamTests and tests that pass `on`.
            "WARREN_GENERAL_STREAM": "off",
        ]
        env.merge(environment) { $1 }
        let configuration = try WarrenConfiguration.load(environment: env, envFile: nil)
        var amqp = try AMQPConfiguration(urlList: configuration.amqpURL)
        amqp.connectionTimeout = .seconds(10)
        let connection = try await AMQPConnector(configuration: amqp).connectOnce()
        let harness = ChatHarness(configuration: configuration, amqp: amqp, connection: connection)
        let channel = try await connection.openChannel()
        try await TopologyDeclarer(configuration: configuration).declareShared(on: channel)
        try await channel.close()
        let result: Result<Void, any Error>
        do {
            try await withTimeout(seconds) { try await body(harness) }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await harness.stopAll()
        await harness.cleanUp()
        try? await connection.close()
        try result.get()
    }

    /// Starts a role on a connection of its own (made with `amqp`, the harness's by default);
    /// returns that connection (close it to kill the role).
    @discardableResult
    func start(_ role: any WarrenRole, amqp configuration: AMQPConfiguration? = nil) async throws -> AMQPConnection {
        var amqp = configuration ?? self.amqp
        amqp.connectionName = "test \(role.name)"
        let connection = try await AMQPConnection.connect(configuration: amqp, logger: self.logger)
        let logger = self.logger
        let task = Task {
            do {
                try await role.run(on: connection)
            } catch {
                logger.debug("role ended", metadata: ["role": "\(role.name)", "error": "\(error)"])
            }
        }
        self.running.withLockedValue { $0.append((connection, task)) }
        return connection
    }

    func login(rooms: (any RoomStore)? = nil) -> LoginRole { LoginRole(configuration: self.configuration, logger: self.logger, rooms: rooms) }
    func reverser() -> ReverserRole { ReverserRole(configuration: self.configuration, logger: self.logger) }
    func powWorker(beforeSolving: (@Sendable (PowJob) async throws -> Void)? = nil) -> PowWorkerRole {
        PowWorkerRole(configuration: self.configuration, logger: self.logger, solver: .init(workers: 1), beforeSolving: beforeSolving)
    }
    /// A cron on `clock`. Ticks stay postable for 60 s of that clock: on a clock 10× real time
    /// the role's default (5 s) is half a real second, and a busy machine delays a tick longer.
    func cron(clock: any CronClock) -> CronRole {
        CronRole(configuration: self.configuration, logger: self.logger, clock: clock, staleness: 60)
    }

    /// Starts login, reverser and a PoW worker.
    func startChat() async throws {
        try await self.start(self.login())
        try await self.start(self.reverser())
        try await self.start(self.powWorker())
    }

    private func stopAll() async {
        let running = self.running.withLockedValue { $0 }
        for (_, task) in running { task.cancel() }
        for (connection, _) in running { try? await connection.close() }
        for (_, task) in running { await task.value }
    }

    private func cleanUp() async {
        guard let channel = try? await self.connection.openChannel() else { return }
        let names = TopologyDeclarer(configuration: self.configuration).workQueues + [
            self.topology.dead, self.topology.cron, self.topology.cronLast, self.topology.history, self.topology.historyRPC,
            self.topology.consumerEvents,
        ] + (self.configuration.generalStream ? [self.topology.generalStream] : [])
        for queue in names { _ = try? await channel.queueDelete(queue) }
        try? await channel.exchangeDelete(self.topology.posts)
        try? await channel.exchangeDelete(self.topology.rooms)
        try? await channel.exchangeDelete(self.topology.entry)
        for person in self.people.withLockedValue({ $0 }) { try? await channel.exchangeDelete(self.topology.person(person)) }
        try? await channel.close()
    }

    /// Messages ready in a queue (nil when it does not exist).
    func messageCount(_ queue: String) async throws -> UInt32? {
        let channel = try await self.connection.openChannel()
        defer { Task { try? await channel.close() } }
        do {
            return try await channel.queueDeclare(queue, passive: true).messageCount
        } catch let error as AMQPError where error.code == .notFound {
            return nil
        }
    }

    /// Publishes raw bytes to a queue through the default exchange.
    func publishRaw(_ body: String, to queue: String, replyTo: String? = nil) async throws {
        let channel = try await self.connection.openChannel()
        try await channel.confirmSelect()
        try await channel.publish(body, routingKey: queue, properties: BasicProperties(contentType: "application/json", replyTo: replyTo))
        try await channel.close()
    }

    /// A queue bound to a room (every room by default), for watching everything it gets.
    func roomWatcher(room: String? = nil) async throws -> EventLog {
        let channel = try await self.connection.openChannel()
        let queue = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        try await channel.queueBind(queue: queue, exchange: self.topology.rooms, routingKey: room.map(Topology.roomKey) ?? Topology.historyBindingKey)
        return try await EventLog.consuming(queue, on: channel)
    }

    /// Logs a tab in like a browser: a login request with a private reply queue.
    func tab(_ login: String, session: String = ChatHarness.randomSession()) async throws -> Tab {
        let channel = try await self.connection.openChannel()
        try await channel.confirmSelect()
        self.people.withLockedValue { _ = $0.insert(login) }
        let reply = try await self.request(LoginRequest(action: .login, login: login, session: session), on: channel)
        #expect(reply.ok, "login refused: \(reply.error ?? "")")
        let queue = try #require(reply.queue)
        let log = try await EventLog.consuming(queue, on: channel)
        return Tab(harness: self, login: login, session: session, queue: queue, channel: channel, events: log)
    }

    /// Sends a login or logout request and waits for the reply; `userID`, when given, is the
    /// AMQP `user_id`, which the broker checks against the connection's user.
    func request(_ request: LoginRequest, on channel: AMQPChannel, userID: String? = nil) async throws -> LoginReply {
        let replies = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        let consumer = try await channel.consume(queue: replies, noAck: true)
        let properties = BasicProperties(contentType: "application/json", correlationID: "c-\(UUID())", replyTo: replies, userID: userID)
        try await channel.publish(body: ByteBuffer(bytes: request.encode()), routingKey: self.topology.login, properties: properties)
        for try await delivery in consumer {
            #expect(delivery.properties.correlationID == properties.correlationID)
            return try LoginReply.decode(delivery.body.readableBytesView)
        }
        throw TestFailure("no login reply")
    }

    static func randomSession() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<32).map { _ in alphabet.randomElement()! })
    }
}

/// A browser tab: its queue and what arrived in it.
struct Tab: Sendable {
    let harness: ChatHarness
    let login: String
    let session: String
    let queue: String
    let channel: AMQPChannel
    let events: EventLog

    /// Posts like a browser; returns the clientId.
    @discardableResult
    func post(_ text: String, session: String? = nil, room: String? = nil, typing: Bool? = nil, clientId: String = UUID().uuidString.lowercased()) async throws -> String {
        let post = InboxPost(text: text, clientId: clientId, login: self.login, session: session ?? self.session, room: room, typing: typing)
        let properties = BasicProperties(contentType: "application/json", deliveryMode: 2)
        try await self.channel.publish(body: ByteBuffer(bytes: post.encode()), routingKey: self.harness.topology.inbox, properties: properties)
        return clientId
    }

    func logout() async throws -> LoginReply {
        try await self.harness.request(LoginRequest(action: .logout, login: self.login, session: self.session), on: self.channel)
    }
}

/// Room events that arrived in one queue, with bounded waits.
final class EventLog: Sendable {
    private let box = NIOLockedValueBox<[RoomEvent]>([])

    static func consuming(_ queue: String, on channel: AMQPChannel) async throws -> EventLog {
        let log = EventLog()
        try await log.consume(queue, on: channel)
        return log
    }

    /// Consumes `queue` on `channel` into this log too: how a browser subscribes its tab's queue
    /// again after it reconnected. With `acknowledging`, each delivery is acknowledged once
    /// recorded, so one cut off by a lost connection comes again (recorded twice, same id).
    func consume(_ queue: String, on channel: AMQPChannel, acknowledging: Bool = false) async throws {
        let consumer = try await channel.consume(queue: queue, noAck: !acknowledging)
        Task {
            for try await delivery in consumer {
                if let message = try? TabMessage.decode(delivery.body.readableBytesView) {
                    self.append(message.events)
                }
                if acknowledging { try await delivery.ack() }
            }
        }
    }

    var all: [RoomEvent] { self.box.withLockedValue { $0 } }

    func append(_ events: [RoomEvent]) { self.box.withLockedValue { $0.append(contentsOf: events) } }

    /// Waits until `condition` holds for the events so far, up to `seconds`.
    func wait(_ what: String, within seconds: Double = 10, until condition: ([RoomEvent]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(TestPatience.scaled(seconds))
        while ContinuousClock.now < deadline {
            if condition(self.all) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("timed out after \(TestPatience.describe(seconds)) waiting for \(what); events: \(self.all.map { "\($0.kind.rawValue) \($0.from): \($0.text)" })")
    }

    /// Waits for the first event matching `predicate`.
    @discardableResult
    func first(_ what: String, within seconds: Double = 10, where predicate: @escaping (RoomEvent) -> Bool) async throws -> RoomEvent {
        try await self.wait(what, within: seconds) { $0.contains(where: predicate) }
        return self.all.first(where: predicate)!
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, failing if it takes longer than `seconds` (scaled by ``TestPatience``).
func withTimeout(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: .seconds(TestPatience.scaled(seconds)))
            return false
        }
        defer { group.cancelAll() }
        if try await group.next() == false { throw TestFailure("the test took longer than \(TestPatience.describe(seconds))") }
    }
}
