import AMQPClient
import AMQPProtocol
import Logging
import NIOCore
import ProofOfWork
import ServiceLifecycle
import WarrenCore
import WarrenGRPC
import WarrenOps

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The reverser bot: consumes `<prefix>.bot.reverser` (every accepted post, `post.*`).
///
/// `post.plain`: publishes a `reply` with the text reversed to the room. `post.pow`: publishes
/// a proof-of-work job to `<prefix>.pow.jobs` (the worker puts the proven post in the room).
/// `post.rpc`: asks a PoW worker over `<prefix>.pow.rpc` (direct reply-to, with a timeout) and
/// publishes the proven post to the room itself, or an `error` event to the sender's tab when
/// no proof comes. `post.grpc`: calls a PoW worker's `warren.v1.ProofOfWork/Solve` directly
/// (`WARREN_POW_GRPC_TARGETS`, in turn, within `WARREN_RPC_TIMEOUT_MS`) and publishes the proven
/// post (`via: grpc`), or tells the sender at once when no worker can be reached. RPC and gRPC
/// calls run concurrently, at most `rpcConcurrency` at a time.
public struct ReverserRole: RoomEventRole {
    /// The role's name.
    public let name = "reverser"
    /// The name replies are from.
    public static let botName = "reverser"
    let configuration: WarrenConfiguration
    let ids: EventIDGenerator
    let logger: Logger
    let rpcConcurrency: Int
    let now: @Sendable () -> Date

    /// Creates the role.
    public init(
        configuration: WarrenConfiguration,
        logger: Logger,
        ids: EventIDGenerator = EventIDGenerator(),
        rpcConcurrency: Int = 32,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.ids = ids
        self.logger = logger
        self.rpcConcurrency = max(1, rpcConcurrency)
        self.now = now
    }

    var topology: Topology { self.configuration.topology }

    /// Consumes posts until graceful shutdown, then waits for the RPC calls in flight.
    public func run(on connection: AMQPConnection) async throws {
        try await connection.withTemporaryChannel { try await TopologyDeclarer(configuration: self.configuration).declareShared(on: $0) }
        let publisher = try await AMQPChannel.confirming(on: connection)
        let rpc = try await AMQPRPCClient.make(connection: connection)
        let channel = try await connection.openChannel()
        // Room for every RPC call in flight plus a few plain posts behind them.
        try await channel.basicQos(prefetchCount: UInt16(clamping: self.rpcConcurrency + 8))
        let consumer = try await channel.consume(queue: self.topology.botReverser)
        let workers = try GRPCClients(targets: self.configuration.grpc.powTargets)
        let calls = PowWorkerCalls(clients: workers)
        try await withThrowingTaskGroup(of: Void.self) { connections in
        connections.addTask { try await workers.run() }
        defer { workers.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for try await delivery in consumer.cancelOnGracefulShutdown() {
                let post: RoomEvent
                do {
                    post = try RoomEvent.decode(delivery.body.readableBytesView)
                } catch {
                    try await delivery.deadLetter("post is not a room event: \(error)", logger: self.logger)
                    continue
                }
                let action = Self.action(
                    for: post, routingKey: delivery.routingKey, bits: self.configuration.powBits,
                    replyID: self.ids.nextString(), at: self.now()
                )
                PostTrail.received(post, logger: self.logger)
                switch action {
                case nil:
                    try await delivery.deadLetter("unknown routing key", logger: self.logger)
                case .reply(let reply)?:
                    try await publisher.publish(roomEvent: reply, topology: self.topology)
                    try await delivery.ack()
                case .job(let job)?:
                    try await publisher.publish(job, routingKey: self.topology.powJobs, properties: WarrenProperties.persistent(messageID: job.id))
                    try await delivery.ack()
                case .call(let job)?, .grpcCall(let job)?:
                    if inFlight >= self.rpcConcurrency {
                        try await group.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    let replyQueue = delivery.properties.headers?[Topology.replyQueueHeader]?.stringValue
                    let overGRPC = job.via == .grpc
                    group.addTask {
                        if overGRPC {
                            try await self.prove(job, replyQueue: replyQueue, calls: calls, publisher: publisher)
                        } else {
                            try await self.prove(job, replyQueue: replyQueue, rpc: rpc, publisher: publisher)
                        }
                        try await delivery.ack()
                    }
                }
            }
            // Shutdown: no new posts; the calls in flight finish (or time out) first.
            try await group.waitForAll()
        }
        workers.shutdown()
        try await connections.waitForAll()
        }
        try? await rpc.close()
        try? await publisher.close()
        try? await channel.close()
    }

    private func prove(_ job: PowJob, replyQueue: String?, rpc: AMQPRPCClient, publisher: AMQPChannel) async throws {
        var logger = self.logger
        logger[metadataKey: "id"] = "\(job.id)"
        if let clientId = job.clientId { logger[metadataKey: "clientId"] = "\(clientId)" }
        let failure: String
        do {
            let delivery = try await timedRPC("pow") {
                try await rpc.call(
                    body: ByteBuffer(bytes: job.encode()),
                    routingKey: self.topology.powRPC,
                    properties: WarrenProperties.persistent(messageID: job.id),
                    timeout: .milliseconds(Int64(self.configuration.rpcTimeoutMs))
                )
            }
            let reply = try PowReply.decode(delivery.body.readableBytesView)
            if reply.ok, let proof = reply.proof {
                let event = RoomEvent.proven(job, proof: proof)
                try await publisher.publish(roomEvent: event, topology: self.topology)
                logger.debug("proven over rpc")
                return
            }
            failure = reply.error ?? "the worker could not prove the post"
        } catch let error as AMQPError where error.code == .timeout {
            failure = "No proof of work within \(self.configuration.rpcTimeoutMs) ms; the post was not published."
        } catch let error as Refusal {
            failure = "The worker's reply was not understood: \(error.message)"
        }
        logger.warning("rpc proof failed", metadata: ["reason": "\(failure)"])
        try await self.tellFailed(job, failure, replyQueue: replyQueue, publisher: publisher)
    }

    /// Proves `job` by a gRPC call to a PoW worker and publishes the proven post; when no proof
    /// comes (no worker reachable, the deadline passed, a refusal) the sender's tab is told.
    private func prove(_ job: PowJob, replyQueue: String?, calls: PowWorkerCalls, publisher: AMQPChannel) async throws {
        var logger = self.logger
        logger[metadataKey: "id"] = "\(job.id)"
        if let clientId = job.clientId { logger[metadataKey: "clientId"] = "\(clientId)" }
        let outcome: Result<Warren_V1_SolveResponse, PowWorkerCalls.Failure>
        do throws(PowWorkerCalls.Failure) {
            outcome = .success(try await calls.solve(challenge: job.challenge, bits: job.bits, timeout: .milliseconds(self.configuration.rpcTimeoutMs)))
        } catch {
            outcome = .failure(error)
        }
        let failure: String
        switch outcome {
        case .success(let answer):
            let proof = ProofOfWork.Proof(
                bits: job.bits, challenge: job.challenge, nonce: answer.nonce, hash: answer.hash, hashesTried: answer.hashesTried,
                elapsed: .milliseconds(answer.elapsedMs), hashesPerSecond: Double(answer.hashesPerSecond)
            )
            if answer.challenge == job.challenge, proof.verify() {
                try await publisher.publish(roomEvent: RoomEvent.proven(job, proof: WarrenCore.Proof(proof, via: .grpc)), topology: self.topology)
                logger.debug("proven over grpc")
                return
            }
            failure = "The worker's proof does not hold; the post was not published."
        case .failure(.unavailable(let targets)):
            failure = "No proof-of-work worker could be reached over gRPC (\(targets)); the post was not published."
        case .failure(.deadlineExceeded):
            failure = "No proof of work within \(self.configuration.rpcTimeoutMs) ms; the post was not published."
        case .failure(.failed(let reason)):
            failure = "The worker could not prove the post (\(reason)); it was not published."
        }
        logger.warning("grpc proof failed", metadata: ["reason": "\(failure)"])
        try await self.tellFailed(job, failure, replyQueue: replyQueue, publisher: publisher)
    }

    /// Tells the sender's tab, when there is one, why its post got no proof (`pow.failed`).
    private func tellFailed(_ job: PowJob, _ failure: String, replyQueue: String?, publisher: AMQPChannel) async throws {
        guard let replyQueue else { return }
        var event = RoomEvent(
            id: self.ids.nextString(), kind: .error, from: Self.botName, text: failure, at: self.now(), clientId: job.clientId, code: "pow.failed",
            room: job.room
        )
        event.inReplyTo = job.clientId
        try await publisher.publish(event, routingKey: replyQueue, properties: WarrenProperties.persistent(messageID: event.id))
    }
}
