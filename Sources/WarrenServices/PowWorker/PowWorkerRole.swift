import AMQPClient
import AMQPProtocol
import Logging
import ProofOfWork
import ServiceLifecycle
import WarrenCore
import WarrenOps

/// The proof-of-work worker: consumes `<prefix>.pow.jobs` and serves `<prefix>.pow.rpc`.
///
/// A job is solved and its proven post published to the room (`via: queue`) before the job is
/// acknowledged, so a worker that dies mid-job leaves the job to another. An RPC request is
/// solved and answered to its `reply_to` with its correlation id. Each queue is consumed with
/// prefetch 1, so work spreads over competing workers.
public struct PowWorkerRole: RoomEventRole {
    /// The role's name.
    public let name = "pow-worker"
    let configuration: WarrenConfiguration
    let solver: ProofSolver
    let logger: Logger
    let beforeSolving: (@Sendable (PowJob) async throws -> Void)?

    /// Creates the role.
    ///
    /// - Parameters:
    ///   - solver: How many threads one proof uses.
    ///   - beforeSolving: Called with each job before it is solved: a seam for tests (e.g. to
    ///     hold a job while the worker is killed).
    public init(
        configuration: WarrenConfiguration,
        logger: Logger,
        solver: ProofSolver = ProofSolver(),
        beforeSolving: (@Sendable (PowJob) async throws -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.solver = solver
        self.beforeSolving = beforeSolving
    }

    var topology: Topology { self.configuration.topology }

    /// Solves `job`, as the wire proof.
    public func solve(_ job: PowJob) async throws -> WarrenCore.Proof {
        try await self.beforeSolving?(job)
        let proof = WarrenCore.Proof(try await self.solver.solve(challenge: job.challenge, bits: job.bits), via: job.via)
        PowMetrics.solved(proof)
        return proof
    }

    /// Consumes both queues until graceful shutdown; a proof in progress is finished first.
    public func run(on connection: AMQPConnection) async throws {
        try await connection.withTemporaryChannel { try await TopologyDeclarer(configuration: self.configuration).declareShared(on: $0) }
        let publisher = try await AMQPChannel.confirming(on: connection)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.consume(self.topology.powJobs, connection: connection) { try await self.handleJob($0, publisher: publisher) } }
            group.addTask { try await self.consume(self.topology.powRPC, connection: connection) { try await self.handleCall($0, publisher: publisher) } }
            try await group.waitForAllOrFirstFailure()
        }
        try? await publisher.close()
    }

    private func consume(_ queue: String, connection: AMQPConnection, handle: (AMQPDelivery) async throws -> Void) async throws {
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: 1)
        let consumer = try await channel.consume(queue: queue)
        for try await delivery in consumer.cancelOnGracefulShutdown() {
            try await handle(delivery)
        }
        try? await channel.close()
    }

    private func decodeJob(_ delivery: AMQPDelivery) async throws -> PowJob? {
        do {
            let job = try PowJob.decode(delivery.body.readableBytesView)
            guard (Limits.powMinBits...Limits.powMaxBits).contains(job.bits) else {
                throw Refusal(.malformedRequest, "bits \(job.bits) out of range")
            }
            return job
        } catch {
            try await delivery.deadLetter("not a proof-of-work job: \(error)", logger: self.logger)
            return nil
        }
    }

    func handleJob(_ delivery: AMQPDelivery, publisher: AMQPChannel) async throws {
        guard let job = try await self.decodeJob(delivery) else { return }
        let proof = try await self.solve(job)
        let event = RoomEvent.proven(job, proof: proof)
        try await publisher.publish(roomEvent: event, topology: self.topology)
        try await delivery.ack()
        self.logger.info("job proven", metadata: ["id": "\(job.id)", "bits": "\(job.bits)", "elapsedMs": "\(proof.elapsedMs)"])
    }

    func handleCall(_ delivery: AMQPDelivery, publisher: AMQPChannel) async throws {
        guard let replyTo = delivery.properties.replyTo, !replyTo.isEmpty else {
            try await delivery.deadLetter("rpc request without reply_to", logger: self.logger)
            return
        }
        guard let job = try await self.decodeJob(delivery) else { return }
        let proof = try await self.solve(job)
        try await publisher.publishReply(PowReply.success(id: job.id, proof: proof), to: replyTo, correlationID: delivery.properties.correlationID)
        try await delivery.ack()
        self.logger.info("rpc proven", metadata: ["id": "\(job.id)", "bits": "\(job.bits)", "elapsedMs": "\(proof.elapsedMs)"])
    }
}
