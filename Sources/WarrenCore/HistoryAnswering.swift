/// Something that answers ``HistoryRequest``s: the history role over the broker (WarrenServices'
/// `HistoryRPCClient`), or a stand-in in tests of the web layer.
public protocol HistoryAnswering: Sendable {
    /// Sends a (valid) request and returns the history role's reply, which may be a refusal.
    /// - Throws: ``HistoryAskError`` when no reply came.
    func ask(_ request: HistoryRequest) async throws(HistoryAskError) -> HistoryReply
}

/// Why a history request got no reply.
public enum HistoryAskError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing answered in time (no history role running, or it is overloaded).
    case timeout(String)
    /// The request could not be sent (no broker connection, history off).
    case unavailable(String)

    /// The reason, for a person.
    public var description: String {
        switch self {
        case .timeout(let reason), .unavailable(let reason): reason
        }
    }
}
