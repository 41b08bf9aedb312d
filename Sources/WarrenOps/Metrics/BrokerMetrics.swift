import WarrenCore

/// What every role records about its broker: what it published, and its connection.
public enum BrokerMetrics {
    /// A message was published; its kind is the room event's kind or the message's type.
    public static func published(_ message: some WireMessage) {
        WarrenMetrics.count(.deliveriesPublished, [("kind", self.kind(of: message))])
    }

    /// The `kind` label of a published message: bounded by the wire types and event kinds.
    static func kind(of message: some WireMessage) -> String {
        switch message {
        case let event as RoomEvent: event.kind.rawValue
        case is BackfillBatch: BackfillBatch.kind
        case is PowJob: "pow.job"
        case is PowReply: "pow.reply"
        case is LoginReply: "login.reply"
        case is PostReply: "post.reply"
        case is HistoryReply: "history.reply"
        case is HistoryRequest: "history.request"
        case is InboxPost: "post"
        case is LoginRequest: "login.request"
        default: "other"
        }
    }

    /// `role` connected to the broker; `again` after a loss.
    public static func connected(role: String, again: Bool) {
        if again { WarrenMetrics.count(.brokerReconnects, [("role", role)]) }
        WarrenMetrics.set(.brokerConnected, 1, [("role", role)])
    }

    /// `role` lost its broker connection (or has none yet).
    public static func disconnected(role: String) {
        WarrenMetrics.set(.brokerConnected, 0, [("role", role)])
    }
}
