import AMQPClient
import AMQPProtocol
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import WarrenCore

/// Monotonic nanoseconds, for latencies.
func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Where the tabs report deliveries: the running phase's tracker, if any.
final class DeliveryRouter: Sendable {
    private let current = NIOLockedValueBox<(phase: Int, tracker: any DeliveryCounting)?>(nil)
    /// Deliveries with no bench client id (presence events).
    let others = NIOLockedValueBox<Int>(0)

    func start(phase: Int, tracker: any DeliveryCounting) { self.current.withLockedValue { $0 = (phase, tracker) } }
    func stop() { self.current.withLockedValue { $0 = nil } }

    func received(_ body: ByteBuffer, tab: Int, at now: UInt64) {
        guard let id = BenchClientID.find(in: body.readableBytesView) else {
            self.others.withLockedValue { $0 += 1 }
            return
        }
        let current = self.current.withLockedValue { $0 }
        guard let current else { return }
        if current.phase == id.phase {
            current.tracker.delivered(id.seq, tab: tab, at: now)
        } else {
            current.tracker.stray()
        }
    }
}

/// One logged-in tab: its session and queue.
struct BenchTab: Sendable {
    let login: String
    let session: String
    let queue: String
    /// The index of the node (in the URL list) its connection is on.
    let endpoint: Int
}

/// N browser tabs, logged in through the login service the way a browser does it (a login
/// request with a private reply queue), each consuming its own queue on a channel of its own.
/// The tabs share a few connections (`tabsPerConnection` each).
final class BenchTabs: Sendable {
    let tabs: [BenchTab]
    private let connections: [AMQPConnection]
    private let consumers: NIOLockedValueBox<[Task<Void, Never>]>

    private init(tabs: [BenchTab], connections: [AMQPConnection]) {
        self.tabs = tabs
        self.connections = connections
        self.consumers = NIOLockedValueBox([])
    }

    /// Logs `count` tabs in, `concurrency` requests at a time, and starts their consumers.
    static func login(
        count: Int, amqp: AMQPConfiguration, topology: Topology, router: DeliveryRouter,
        tabsPerConnection: Int = 25, concurrency: Int = 16, timeout: Double, logger: Logger
    ) async throws -> BenchTabs {
        var connections: [AMQPConnection] = []
        do {
            for index in 0..<((count + tabsPerConnection - 1) / tabsPerConnection) {
                // On a cluster the connections go round its nodes.
                let endpoints = amqp.endpoints
                var configuration = amqp.aimed(at: endpoints[index % endpoints.count])
                configuration.connectionName = "chat-bench tabs \(index)"
                connections.append(try await AMQPConnection.connect(configuration: configuration, logger: logger))
            }
        } catch {
            for connection in connections { try? await connection.close() }
            throw error
        }
        let made = BenchTabs(tabs: [], connections: connections)
        var tabs: [(BenchTab, AMQPChannel)?] = Array(repeating: nil, count: count)
        do {
            try await withThrowingTaskGroup(of: (Int, BenchTab, AMQPChannel).self) { group in
                var next = 0
                func add() {
                    let index = next
                    next += 1
                    let connection = connections[index / tabsPerConnection]
                    let endpoint = (index / tabsPerConnection) % amqp.endpoints.count
                    group.addTask {
                        let (tab, channel) = try await Self.loginOne(
                            index: index, connection: connection, endpoint: endpoint, topology: topology, timeout: timeout
                        )
                        return (index, tab, channel)
                    }
                }
                while next < min(concurrency, count) { add() }
                while let (index, tab, channel) = try await group.next() {
                    tabs[index] = (tab, channel)
                    if next < count { add() }
                }
            }
        } catch {
            await made.close()
            throw error
        }
        let ready = tabs.map { $0! }
        let result = BenchTabs(tabs: ready.map(\.0), connections: connections)
        var tasks: [Task<Void, Never>] = []
        for (index, (tab, channel)) in ready.enumerated() {
            let consumer = try await channel.consume(queue: tab.queue, noAck: true)
            tasks.append(Task {
                do {
                    for try await delivery in consumer {
                        router.received(delivery.body, tab: index, at: monotonicNanoseconds())
                    }
                } catch {
                    logger.debug("tab consumer ended", metadata: ["tab": "\(index)", "error": "\(error)"])
                }
            })
        }
        result.consumers.withLockedValue { $0 = tasks }
        return result
    }

    private static func loginOne(
        index: Int, connection: AMQPConnection, endpoint: Int, topology: Topology, timeout: Double
    ) async throws -> (BenchTab, AMQPChannel) {
        let login = "bench\(index)"
        let session = randomSession()
        let channel = try await connection.openChannel()
        let replies = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        let consumer = try await channel.consume(queue: replies, noAck: true)
        let correlationID = "login-\(index)"
        let properties = BasicProperties(contentType: "application/json", correlationID: correlationID, replyTo: replies)
        let request = LoginRequest(action: .login, login: login, session: session, resume: false)
        try await channel.publish(body: ByteBuffer(bytes: request.encode()), routingKey: topology.login, properties: properties)
        let reply = try await withDeadline(.seconds(timeout), "the login reply for \(login) (is the login service running?)") {
            for try await delivery in consumer where delivery.properties.correlationID == correlationID {
                return try LoginReply.decode(delivery.body.readableBytesView)
            }
            throw ChatBenchError("the reply queue of \(login) closed")
        }
        guard reply.ok, let queue = reply.queue else {
            throw ChatBenchError("login of \(login) refused: \(reply.error ?? "no reason given")")
        }
        return (BenchTab(login: login, session: session, queue: queue, endpoint: endpoint), channel)
    }

    /// A session id like a browser tab's: 32 characters of base64url.
    static func randomSession() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next() % 64)] })
    }

    /// Closes the tabs' connections; their consumers end with them.
    func close() async {
        for connection in self.connections { try? await connection.close() }
        let tasks = self.consumers.withLockedValue { $0 }
        for task in tasks { await task.value }
    }
}

/// A failure of the benchmark, with a readable reason.
public struct ChatBenchError: Error, CustomStringConvertible {
    /// The reason.
    public let description: String
    init(_ description: String) { self.description = description }
}
