import AMQPClient
import Logging
import ServiceLifecycle

/// Runs a ``WarrenRole`` as a swift-service-lifecycle `Service`, reconnecting when the
/// connection drops (broker restart, network), with capped exponential backoff.
///
/// Why not `AMQPRecoveringConnection`: the roles need passive declares on throw-away channels
/// and an RPC client, which the recovering connection does not wrap; re-running the role on a
/// fresh connection re-declares everything and restarts every consumer, which is what recovery
/// means here. Unacknowledged deliveries come back redelivered, so nothing is lost.
public struct RoleService: Service {
    /// The role.
    public let role: any WarrenRole
    /// Where to connect.
    public let amqp: AMQPConfiguration
    /// The logger.
    public let logger: Logger
    /// The recovery policy (its backoff; `operationTimeout` is unused).
    public let policy: AMQPRecoveryPolicy

    /// Creates the service.
    public init(role: any WarrenRole, amqp: AMQPConfiguration, logger: Logger, policy: AMQPRecoveryPolicy = AMQPRecoveryPolicy()) {
        var amqp = amqp
        if amqp.connectionName == nil { amqp.connectionName = "warren \(role.name)" }
        self.role = role
        self.amqp = amqp
        self.logger = logger
        self.policy = policy
    }

    /// Connects, runs the role, and connects again whenever the connection is lost, until
    /// graceful shutdown.
    ///
    /// Only the very first connection attempt fails the service (a wrong URL or password
    /// should not loop quietly); once connected, the service retries for as long as it runs,
    /// and logs each loss ("connection lost; reconnecting"), each failed attempt and the
    /// reconnection ("reconnected" with the number of attempts it took).
    public func run() async throws {
        var logger = self.logger
        logger[metadataKey: "role"] = "\(self.role.name)"
        var reconnect = ReconnectState()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let connection: AMQPConnection
            do {
                connection = try await AMQPConnection.connect(configuration: self.amqp, logger: logger)
            } catch {
                guard let attempt = reconnect.connectFailed() else { throw error }
                logger.warning("cannot connect; retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try await self.backoff(attempt: attempt)
                continue
            }
            if let attempts = reconnect.connected() {
                logger.info("reconnected", metadata: ["attempts": "\(attempts)"])
            } else {
                logger.info("connected")
            }
            let ended: (any Error)?
            do {
                try await self.role.run(on: connection)
                ended = nil
            } catch {
                ended = error
            }
            try? await connection.close()
            if Task.isShuttingDownGracefully || Task.isCancelled {
                logger.info("stopped")
                return
            }
            // A role returns only on shutdown; returning otherwise means its consumers ended
            // under it (e.g. the broker cancelled them), so it is run again like after a loss.
            let reason = ended.map { "\($0)" } ?? "the role returned while not shutting down"
            logger.warning("connection lost; reconnecting", metadata: ["error": "\(reason)"])
            reconnect.lost()
            try await self.backoff(attempt: 0)
        }
    }

    private func backoff(attempt: Int) async throws {
        let delay = self.policy.delay(attempt: attempt, random: Double.random(in: 0...1))
        // Shutdown cuts the wait short; the loop condition then ends the service.
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: delay)
        }
    }
}
