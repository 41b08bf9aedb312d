/// The bookkeeping of ``RoleService``'s reconnect loop; pure.
struct ReconnectState: Equatable {
    /// Whether a failed first attempt is retried (the web role's broker link) rather than
    /// failing the service (a role).
    let retriesFirstConnection: Bool
    /// Whether the service was ever connected.
    private(set) var everConnected = false
    /// Failed attempts since the connection was lost.
    private(set) var failures = 0

    /// Starts before the first attempt.
    init(retriesFirstConnection: Bool = false) {
        self.retriesFirstConnection = retriesFirstConnection
    }

    /// A connection attempt failed: the attempt number to back off for, or nil when the
    /// service should fail (the first attempt of all, unless ``retriesFirstConnection``).
    mutating func connectFailed() -> Int? {
        guard self.everConnected || self.retriesFirstConnection else { return nil }
        self.failures += 1
        return self.failures
    }

    /// A connection was made: how many attempts the reconnection took (nil on the first
    /// connection).
    mutating func connected() -> Int? {
        defer {
            self.everConnected = true
            self.failures = 0
        }
        return self.everConnected ? self.failures + 1 : nil
    }

    /// The connection was lost.
    mutating func lost() {
        self.failures = 0
    }
}
