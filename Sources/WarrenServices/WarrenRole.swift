import AMQPClient
import Logging
import ServiceLifecycle
import WarrenCore

/// One back-end role's work on one AMQP connection.
///
/// `run(on:)` declares what the role uses, consumes until graceful shutdown (consumer loops
/// use `cancelOnGracefulShutdown()`), finishes what is in flight and returns. It throws when
/// the connection goes; ``RoleService`` then connects again.
public protocol WarrenRole: Sendable {
    /// The role's name, for logs and the connection name.
    var name: String { get }
    /// Does the role's work on `connection` until graceful shutdown.
    func run(on connection: AMQPConnection) async throws
}

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
    public func run() async throws {
        var attempt = 0
        var logger = self.logger
        logger[metadataKey: "role"] = "\(self.role.name)"
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let connection: AMQPConnection
            do {
                connection = try await AMQPConnection.connect(configuration: self.amqp, logger: logger)
            } catch {
                // The first attempt fails loudly: a wrong URL or password should not loop quietly.
                if attempt == 0 { throw error }
                logger.warning("cannot connect; retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                attempt += 1
                try await self.backoff(attempt: attempt)
                continue
            }
            logger.info("connected")
            attempt = 1
            do {
                try await self.role.run(on: connection)
                try? await connection.close()
                logger.info("stopped")
                return
            } catch {
                try? await connection.close()
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.warning("connection lost; reconnecting", metadata: ["error": "\(error)"])
                try await self.backoff(attempt: attempt)
            }
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
