import AMQPClient
import Logging
import NIOCore
import ServiceLifecycle
import WarrenOps

/// Runs a ``WarrenRole`` as a swift-service-lifecycle `Service`, reconnecting when the
/// connection drops (broker restart, a cluster node's loss, network), with capped exponential
/// backoff.
///
/// Every role runs in one, and so does the web role's broker link (a ``RoleGroup`` of its
/// history client and post publisher), which also retries its first connection
/// (``firstConnectionRetry``) because it serves the page meanwhile. Connecting, moving to the
/// next node of a cluster after a loss and the backoff are `AMQPConnector`'s, the one
/// reconnection mechanism, which the library's `AMQPRecoveringConnection` uses too.
///
/// Why not `AMQPRecoveringConnection` itself: it stays a library feature, for clients that keep
/// their channels and consumers across a drop (it re-declares what was declared through it and
/// reopens channels under the same objects). The roles need passive declares on throw-away
/// channels and an RPC client, which the recovering connection does not wrap; re-running the
/// role on a fresh connection re-declares everything and restarts every consumer, which is what
/// recovery means here. Unacknowledged deliveries come back redelivered, so nothing is lost.
public struct RoleService: Service {
    /// The role.
    public let role: any WarrenRole
    /// Where to connect (with `failoverEndpoints`, any node of a cluster).
    public let amqp: AMQPConfiguration
    /// The logger.
    public let logger: Logger
    /// The recovery policy (its backoff; `operationTimeout` is unused).
    public let policy: AMQPRecoveryPolicy
    /// How to wait between attempts at the first connection, or nil to fail the service when
    /// the first attempt fails (a role: a wrong URL or password should not loop quietly).
    public let firstConnectionRetry: AMQPRecoveryPolicy?

    /// Creates the service.
    /// - Parameters:
    ///   - policy: The backoff after a connection was lost.
    ///   - firstConnectionRetry: The backoff before the first connection, for a service that
    ///     should wait for the broker rather than fail; nil fails at the first attempt.
    public init(
        role: any WarrenRole, amqp: AMQPConfiguration, logger: Logger, policy: AMQPRecoveryPolicy = .roles,
        firstConnectionRetry: AMQPRecoveryPolicy? = nil
    ) {
        var amqp = amqp
        if amqp.connectionName == nil { amqp.connectionName = "warren \(role.name)" }
        if let bound = role.confirmTimeout { amqp.confirmTimeout = min(amqp.effectiveConfirmTimeout, bound) }
        self.role = role
        self.amqp = amqp
        self.logger = logger
        self.policy = policy
        self.firstConnectionRetry = firstConnectionRetry
    }

    /// Connects, runs the role, and connects again whenever the connection is lost, until
    /// graceful shutdown.
    ///
    /// Only the very first connection round fails the service (a wrong URL or password
    /// should not loop quietly), unless ``firstConnectionRetry`` says to wait for the broker.
    /// Once connected, the service retries for as long as it runs, and logs each loss
    /// ("connection lost; reconnecting"), each failed round ("cannot connect; retrying") and
    /// the reconnection ("reconnected" with the number of rounds it took and the node).
    public func run() async throws {
        var logger = self.logger
        logger[metadataKey: "role"] = "\(self.role.name)"
        let readiness = ReadinessBoard.current.enroll(self.role.name)
        defer { readiness.leave() }
        let connector = AMQPConnector(configuration: self.amqp, logger: logger)
        var everConnected = false
        // Runs that ended soon after connecting, in a row: the backoff grows with them, so a
        // role that fails at once (a run of nacks during a quorum queue's leader election, a
        // message that makes it fail) is not run again, and its deliveries redelivered, ten
        // times a second.
        var quickEnds = 0
        while !Self.stopping {
            let connection: AMQPConnection
            var rounds = 1
            do {
                if !everConnected, self.firstConnectionRetry == nil {
                    connection = try await connector.connectOnce()
                } else {
                    (connection, rounds) = try await connector.reconnect(
                        policy: everConnected ? self.policy : self.firstConnectionRetry ?? self.policy,
                        attempt: quickEnds,
                        waitFirst: everConnected,
                        sleep: { await Self.backoff($0) },
                        isStopped: { Self.stopping },
                        failed: { round, error in
                            logger.warning("cannot connect; retrying", metadata: ["error": "\(error)", "attempt": "\(round)"])
                        }
                    )
                }
            } catch is CancellationError {
                break
            }
            readiness.connected()
            let node = "\(connection.configuration.host):\(connection.configuration.port)"
            logger.info(everConnected ? "reconnected" : "connected", metadata: ["amqp.host": "\(node)", "attempts": "\(rounds)"])
            everConnected = true
            let connectedAt = ContinuousClock.now
            let ended: (any Error)?
            do {
                try await self.role.run(on: connection)
                ended = nil
            } catch {
                ended = error
            }
            try? await connection.close()
            readiness.disconnected()
            if Self.stopping { break }
            // A role returns only on shutdown; returning otherwise means its consumers ended
            // under it (e.g. the broker cancelled them), so it is run again like after a loss.
            let reason = ended.map { "\($0)" } ?? "the role returned while not shutting down"
            logger.warning("connection lost; reconnecting", metadata: ["error": "\(reason)", "amqp.host": "\(node)"])
            connector.connectionLost()
            quickEnds = ContinuousClock.now - connectedAt < Self.quickEnd ? quickEnds + 1 : 0
        }
        logger.info("stopped")
    }

    /// The confirm bound of the roles that publish room events (``WarrenRole/confirmTimeout``:
    /// login, reverser, PoW worker, cron), below the request timeout (30 s).
    ///
    /// RabbitMQ 3.10.8 does not confirm a publish routed to a stream that is in flight when the
    /// stream's writer moves to another node (its node killed, stopped or cut off), on a channel
    /// of a node that stays or one opened meanwhile: the chaos drill's login service waited for
    /// such a confirm until its own connection went (docs/testing.md). Its post loop waits for each
    /// confirm, so nothing else was admitted meanwhile. A fresh channel reaches the new writer:
    /// past this bound the publish fails, the role connects again and the unacknowledged posts
    /// come back and are admitted under their first event ids. A confirm normally takes 10-50 ms
    /// on the drill's loaded cluster, 0.73 s at most at a fault, a quorum queue's new leader
    /// included; but a node saturated by thousands of Web-STOMP tabs confirmed stream publishes
    /// 2.6 s late at p99 (Benchmarks/tabs/README.md, the fan-out probe), and a role that gives up
    /// on a confirm that was only slow connects again for nothing. 10 s keeps clear of that and
    /// still ends the wait for a confirm that never comes.
    public static let roomEventConfirmTimeout: TimeAmount = .seconds(10)

    /// A run shorter than this counts as ending at once (see `quickEnds` in ``run()``).
    static let quickEnd: Duration = .seconds(5)

    private static var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Waits `delay`; shutdown cuts the wait short, and the loop condition then ends the service.
    private static func backoff(_ delay: Duration) async {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: delay)
        }
    }
}
