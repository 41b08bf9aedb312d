import AMQPClient

/// One back-end role's work on one AMQP connection.
///
/// `run(on:)` declares what the role uses, consumes until graceful shutdown (consumer loops
/// use `cancelOnGracefulShutdown()`, or cancel their consumer on it), finishes what is in
/// flight and returns. It throws when
/// the connection goes; ``RoleService`` then connects again.
public protocol WarrenRole: Sendable {
    /// The role's name, for logs and the connection name.
    var name: String { get }
    /// Does the role's work on `connection` until graceful shutdown.
    func run(on connection: AMQPConnection) async throws
}
