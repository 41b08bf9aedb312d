import AMQPClient
import AMQPProtocol
import Logging
import NIOCore
import ServiceLifecycle
import WarrenCore
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
/// no proof comes. RPC calls run concurrently, at most `rpcConcurrency` at a time.
public struct ReverserRole: WarrenRole {
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
                case .call(let job)?:
                    if inFlight >= self.rpcConcurrency {
                        try await group.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    let replyQueue = delivery.properties.headers?[Topology.replyQueueHeader]?.stringValue
                    group.addTask {
                        try await self.prove(job, replyQueue: replyQueue, rpc: rpc, publisher: publisher)
                        try await delivery.ack()
                    }
                }
            }
            // Shutdown: no new posts; the calls in flight finish (or time out) first.
            try await group.waitForAll()
        }
        try? await rpc.close()
        try? await publisher.close()
        try? await channel.close()
    }

    private func prove(_ job: PowJob, replyQueue: String?, rpc: AMQPRPCClient, publisher: AMQPChannel) async throws {
        var logger = self.logger
        logger[metadataKey: "id"] = "\(job.id)"
        logger[metadataKey: "clientId"] = "\(job.clientId)"
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
        guard let replyQueue else { return }
        var event = RoomEvent(
            id: self.ids.nextString(), kind: .error, from: Self.botName, text: failure, at: self.now(), clientId: job.clientId, code: "pow.failed",
            room: job.room
        )
        event.inReplyTo = job.clientId
        try await publisher.publish(event, routingKey: replyQueue, properties: WarrenProperties.persistent(messageID: event.id))
    }
}
