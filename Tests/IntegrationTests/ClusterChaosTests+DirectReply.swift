import AMQPClient
import AMQPProtocol
import Foundation
import Logging
import NIOCore
import ProofOfWork
import Testing
import WarrenCore
import WarrenServices

/// A reply to a direct reply-to address whose requester's node is gone (issue #17), on a cluster
/// of the test's own: part of the chaos drill's suite, which runs alone and one test at a time
/// (the cluster's ports are the drill's).
///
/// RabbitMQ 3.10 routes a publish to `amq.rabbitmq.reply-to.<node hash, pid>.<key>` by looking
/// the node hash up among the nodes it sees running (`rabbit_channel:deliver_reply`); when the
/// node is not running the lookup returns a value the code does not match, the publishing
/// channel crashes with a `case_clause`, and the broker closes the publisher's whole connection
/// with 541 INTERNAL_ERROR. A role that answered on the connection it consumes on lost its
/// consumers with it.
///
/// Here a PoW worker (the role with a seam to hold a request) serves `chat.pow.rpc` on node 1; a
/// requester on node 2 sends a request and waits on direct reply-to; node 2 is killed while the
/// worker holds the request; the worker then answers it. Its connection must stay up and a live
/// requester on node 1 must be answered at once.
extension ClusterChaosTests {
    @Test func aReplyToARequesterWhoseNodeWentDoesNotCostTheRoleItsConnection() async throws {
        try await TestCluster.with { cluster in
            let urls = try cluster.amqpURLs()
            let configuration = try WarrenConfiguration.load(
                environment: [
                    "WARREN_AMQP_URL": urls, "WARREN_PREFIX": "t\(UInt32.random(in: 0...UInt32.max))", "WARREN_POW_BITS": "8",
                    "WARREN_BROKER_AUTH": "off",
                ],
                envFile: nil
            )
            var amqp = try AMQPConfiguration(urlList: urls)
            amqp.connectionTimeout = .seconds(10)
            let nodes = amqp.endpoints
            var logger = Logger(label: "warren.test")
            logger.logLevel = ProcessInfo.processInfo.environment["WARREN_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning

            // The worker holds the request named "held" until told to answer it.
            let (held, heldSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
            let worker = PowWorkerRole(configuration: configuration, logger: logger, solver: .init(workers: 1)) { job in
                guard job.text == "held" else { return }
                heldSignal.yield()
                for await _ in release { break }
            }
            var workerAMQP = amqp
            workerAMQP.connectionName = "test pow-worker"
            let workerConnection = try await AMQPConnection.connect(configuration: workerAMQP.aimed(at: nodes[0]), logger: logger)
            // Declared before any request, so none is published to a queue not there yet.
            let declaring = try await workerConnection.openChannel()
            try await TopologyDeclarer(configuration: configuration).declareShared(on: declaring)
            try await declaring.close()
            let workerRun = Task { try await worker.run(on: workerConnection) }
            defer { workerRun.cancel() }

            // The requester on node 2, waiting on direct reply-to.
            let node2 = try await AMQPConnection.connect(configuration: amqp.aimed(at: nodes[1]), logger: logger)
            let doomed = try await AMQPRPCClient.make(connection: node2)
            let heldCall = doomed.startCall(
                body: ByteBuffer(bytes: Self.powRequest("held").encode()), routingKey: configuration.topology.powRPC, timeout: .seconds(60)
            )
            try await heldCall.sent()
            try await withTimeout(30) {
                var signals = held.makeAsyncIterator()
                _ = await signals.next()
            }

            // Node 2 goes; node 1 notices at once (the socket of a killed local node closes).
            try await cluster.kill(2)
            try await Task.sleep(for: .seconds(3))
            releaseSignal.yield()
            releaseSignal.finish()
            try await Task.sleep(for: .seconds(2))

            let closedBy = await Self.closeReason(workerConnection)
            #expect(workerConnection.isActive, "the worker's connection was closed: \(String(describing: closedBy))")
            let node1 = try await AMQPConnection.connect(configuration: amqp.aimed(at: nodes[0]), logger: logger)
            defer { Task { try? await node1.close() } }
            let live = try await AMQPRPCClient.make(connection: node1)
            let started = ContinuousClock.now
            let reply = try await live.call(
                body: ByteBuffer(bytes: Self.powRequest("live").encode()), routingKey: configuration.topology.powRPC, timeout: .seconds(5)
            )
            let answer = try PowReply.decode(reply.body.readableBytesView)
            #expect(answer.ok)
            #expect(ContinuousClock.now - started < .seconds(5))
            let closedAfter = await Self.closeReason(workerConnection)
            #expect(workerConnection.isActive, "the worker's connection was closed: \(String(describing: closedAfter))")
            try? await workerConnection.close()
            _ = await workerRun.result
        }
    }

    static func powRequest(_ text: String) -> PowJob {
        let id = EventIDGenerator().nextString()
        return PowJob(
            id: id, from: "alice", text: text, at: Date(), clientId: nil, via: .rpc, bits: 8,
            challenge: ProofChallenge.make(id: id, author: "alice", text: text)
        )
    }

    /// Why `connection` closed, or nil while it is open (asked without waiting).
    static func closeReason(_ connection: AMQPConnection) async -> AMQPError? {
        guard !connection.isActive else { return nil }
        return await connection.closeReason()
    }
}
