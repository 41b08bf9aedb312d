import AMQPClient
import AMQPProtocol
import ChatBench
import Foundation
import Logging
import NIOCore
import WarrenCore
import WarrenServices
import WarrenStore

/// The backfill end to end: the real login and history roles in this process, on the store
/// being measured, against a broker; logins made as a browser makes them (a login request with
/// a private reply queue), timed from the request to the 50th backfilled event in the new tab's
/// queue. Next to it, the history request alone (`latest` 50 over `<prefix>.history.rpc`, the
/// barrier included), which is what the login service waits for.
struct BackfillLatency {
    let amqpURL: String
    let store: Store
    let target: BenchTarget
    let logins: Int
    let logger: Logger

    /// Each figure is bounded: a login whose backfill does not come fails the run.
    static let timeout = 30.0

    func measure() async throws -> [ReadResult] {
        let configuration = try WarrenConfiguration.load(
            environment: [
                "WARREN_AMQP_URL": self.amqpURL, "WARREN_PREFIX": "bench\(UInt32.random(in: 0...UInt32.max))",
                "WARREN_HISTORY": "store", "WARREN_USER_QUEUE_TTL_MS": "60000",
                // The browser here speaks AMQP on the services' account, which cannot vouch for
                // the people it logs in (user_id); `scripts/bench auth` measures broker auth.
                "WARREN_BROKER_AUTH": "off",
            ],
            envFile: nil)
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "store-bench browser"
        let browser = try await AMQPConnection.connect(configuration: amqp, logger: self.logger)
        var roles: [(AMQPConnection, Task<Void, Never>)] = []
        do {
            try await browser.withTemporaryChannel { try await TopologyDeclarer(configuration: configuration).declareShared(on: $0) }
            for role in [
                LoginRole(configuration: configuration, logger: self.logger) as any WarrenRole,
                HistoryRole(configuration: configuration, store: self.store.events, logger: self.logger),
            ] {
                var settings = amqp
                settings.connectionName = "store-bench \(role.name)"
                let connection = try await AMQPConnection.connect(configuration: settings, logger: self.logger)
                let logger = self.logger
                roles.append((connection, Task { do { try await role.run(on: connection) } catch { logger.debug("role ended: \(error)") } }))
            }
            let results = try await self.run(browser: browser, topology: configuration.topology)
            await Self.stop(roles, browser: browser, topology: configuration.topology)
            return results
        } catch {
            await Self.stop(roles, browser: browser, topology: configuration.topology)
            throw error
        }
    }

    private func run(browser: AMQPConnection, topology: Topology) async throws -> [ReadResult] {
        _ = try await withDeadline(.seconds(Self.timeout), "the login and history roles to consume") {
            while true {
                var consumers: [UInt32] = []
                for queue in [topology.login, topology.history, topology.historyRPC] {
                    // A queue a role has not declared yet is a 404 that closes only this channel.
                    let count = try? await browser.withTemporaryChannel { try await $0.queueDeclare(queue, passive: true).consumerCount }
                    consumers.append(count ?? 0)
                }
                if consumers.allSatisfy({ $0 > 0 }) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // A few of each first, so connections, statements and caches are warm.
        var rpc: [Double] = []
        var login: [Double] = []
        let client = try await AMQPRPCClient.make(connection: browser)
        defer { Task { try? await client.close() } }
        for index in -3..<self.logins {
            let rpcMs = try await self.historyRequest(client, topology: topology)
            let loginMs = try await self.loginToFiftiethEvent(browser: browser, topology: topology, index: index)
            if index >= 0 {
                rpc.append(rpcMs)
                login.append(loginMs)
            }
        }
        let rows = try await self.store.events.count()
        return [
            ReadResult(samples: rpc, store: self.target.name, operation: "history-rpc-latest50", tableEvents: rows),
            ReadResult(samples: login, store: self.target.name, operation: "login-to-50th-backfilled", tableEvents: rows),
        ]
    }

    /// `latest` 50 over the history request queue, as the login service asks it; milliseconds.
    private func historyRequest(_ client: AMQPRPCClient, topology: Topology) async throws -> Double {
        let started = ContinuousClock.now
        let delivery = try await client.call(
            body: ByteBuffer(bytes: HistoryRequest(.latest, limit: Limits.backfillCount).encode()),
            routingKey: topology.historyRPC, timeout: .seconds(Int64(Self.timeout)))
        let elapsed = started.duration(to: .now).seconds * 1_000
        let reply = try HistoryReply.decode(delivery.body.readableBytesView)
        guard reply.ok, reply.events?.count == Limits.backfillCount else {
            throw BenchOptions.UsageError(description: "the history request got \(reply.events?.count ?? 0) events: \(reply.error ?? "")")
        }
        return elapsed
    }

    /// One login: from publishing the request to the 50th backfilled event (those come through
    /// the default exchange; live events through the room) in the tab's queue; milliseconds.
    private func loginToFiftiethEvent(browser: AMQPConnection, topology: Topology, index: Int) async throws -> Double {
        let channel = try await browser.openChannel()
        let replies = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        let replyConsumer = try await channel.consume(queue: replies, noAck: true)
        let session = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let request = LoginRequest(action: .login, login: "bench\(index + 3)", session: session)
        let properties = BasicProperties(contentType: "application/json", correlationID: "login-\(index)", replyTo: replies)
        let started = ContinuousClock.now
        try await channel.publish(body: ByteBuffer(bytes: request.encode()), routingKey: topology.login, properties: properties)
        let measured: Result<(Double, String), any Error>
        do {
            measured = .success(try await self.fiftiethEvent(after: started, replies: replyConsumer, on: channel, index: index))
        } catch {
            measured = .failure(error)
        }
        // Closing the channel cancels its consumers; the queue goes afterwards, on a channel of
        // its own (a delete right behind the cancel that leaving the loop sends is refused by
        // the client: "queue.delete-ok does not answer basic.cancel").
        try? await channel.close()
        let (elapsed, queue) = try measured.get()
        _ = try await browser.withTemporaryChannel { try await $0.queueDelete(queue) }
        return elapsed
    }

    private func fiftiethEvent(
        after started: ContinuousClock.Instant, replies replyConsumer: AMQPConsumer, on channel: AMQPChannel, index: Int
    ) async throws -> (Double, String) {
        try await withDeadline(.seconds(Self.timeout), "the backfill of login \(index)") {
            var reply: LoginReply?
            for try await delivery in replyConsumer {
                reply = try LoginReply.decode(delivery.body.readableBytesView)
                break
            }
            guard let reply, reply.ok, let queue = reply.queue else {
                throw BenchOptions.UsageError(description: "login \(index) refused: \(reply?.error ?? "no reply")")
            }
            var backfilled = 0
            let tab = try await channel.consume(queue: queue, noAck: true)
            for try await delivery in tab where delivery.exchange.isEmpty {
                // One batch message since the login service learned it; counted by its events.
                backfilled += (try? TabMessage.decode(delivery.body.readableBytesView))?.events.count ?? 0
                if backfilled >= Limits.backfillCount { break }
            }
            return (started.duration(to: .now).seconds * 1_000, queue)
        }
    }

    private static func stop(_ roles: [(AMQPConnection, Task<Void, Never>)], browser: AMQPConnection, topology: Topology) async {
        for (connection, task) in roles {
            task.cancel()
            try? await connection.close()
            await task.value
        }
        try? await browser.withTemporaryChannel { channel in
            for queue in [topology.login, topology.inbox, topology.botReverser, topology.powJobs, topology.powRPC, topology.history, topology.historyRPC, topology.dead] {
                _ = try await channel.queueDelete(queue)
            }
            try await channel.exchangeDelete(topology.posts)
            try await channel.exchangeDelete(topology.rooms)
        }
        try? await browser.close()
    }
}
