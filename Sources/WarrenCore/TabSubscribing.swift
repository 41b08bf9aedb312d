/// A queue of its own for a service that reads a person's live events as a browser tab does:
/// what the web role's gRPC `Chat.Subscribe` needs of the broker (WarrenServices'
/// `TabSubscriber` over AMQP).
public protocol TabSubscribing: Sendable {
    /// Declares `login`'s routing (their exchange, bound to `rooms`) and the tab queue of
    /// `session` (kept for `WARREN_USER_QUEUE_TTL_MS` after the last reader goes), then hands
    /// each event to `deliver` and acknowledges it once `deliver` returned, until the task is
    /// cancelled or `stop` says so: an event not yet delivered stays in the queue for the next
    /// subscription with the same session.
    /// - Throws: ``TabSubscribeError`` when the broker cannot be used or the link was lost;
    ///   `deliver`'s error as it is.
    func subscribe(
        login: String, session: String, rooms: [String], stop: @escaping @Sendable () -> Bool,
        deliver: @escaping @Sendable (RoomEvent) async throws -> Void
    ) async throws
}

/// Why a subscription could not start or went on no longer.
public enum TabSubscribeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No broker connection, or it was lost.
    case unavailable(String)

    /// The reason, for a person.
    public var description: String {
        switch self {
        case .unavailable(let reason): reason
        }
    }
}
