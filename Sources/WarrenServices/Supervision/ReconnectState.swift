/// The bookkeeping of ``RoleService``'s reconnect loop; pure.
struct ReconnectState: Equatable {
    /// Whether the service was ever connected.
    private(set) var everConnected = false
    /// Failed attempts since the connection was lost.
    private(set) var failures = 0

    /// A connection attempt failed: the attempt number to back off for, or nil when this was
    /// the first attempt of all (the service should fail).
    mutating func connectFailed() -> Int? {
        guard self.everConnected else { return nil }
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
