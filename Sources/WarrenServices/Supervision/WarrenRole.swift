import AMQPClient
import NIOCore

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
    /// How long a publish of the role waits for its confirm before it fails (and the role's
    /// loop with it, so that ``RoleService`` connects again); nil: the connection's bound.
    var confirmTimeout: TimeAmount? { get }
}

extension WarrenRole {
    /// The connection's bound (its request timeout unless it sets one).
    public var confirmTimeout: TimeAmount? { nil }
}

/// A role that publishes room events (general's stream among them): login, reverser, PoW worker,
/// cron. Its confirms are bounded by ``RoleService/roomEventConfirmTimeout``.
public protocol RoomEventRole: WarrenRole {}

extension RoomEventRole {
    /// ``RoleService/roomEventConfirmTimeout``.
    public var confirmTimeout: TimeAmount? { RoleService.roomEventConfirmTimeout }
}
