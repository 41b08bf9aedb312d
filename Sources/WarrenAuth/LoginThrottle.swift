import NIOConcurrencyHelpers

/// Throttles failed sign-ins per name and per address: the shared, thread-safe face of two
/// ``ThrottleTable``s.
public final class LoginThrottle: Sendable {
    private let tables: NIOLockedValueBox<(names: ThrottleTable, addresses: ThrottleTable)>

    /// Creates a throttle.
    /// - Parameters:
    ///   - limit: failures allowed per name, and per address, within `window` seconds.
    ///   - window: the window's length in seconds.
    ///   - capacity: the most names (and, separately, addresses) remembered.
    public init(limit: Int = 5, window: Int64 = 60, capacity: Int = 100_000) {
        let table = ThrottleTable(limit: limit, window: window, capacity: capacity)
        self.tables = NIOLockedValueBox((table, table))
    }

    /// Seconds until a sign-in of `name` from `address` may be tried, or nil when it may be now.
    public func retryAfter(name: String, address: String?, now: Int64) -> Int64? {
        self.tables.withLockedValue { tables in
            let byName = tables.names.retryAfter(Self.key(name), now: now)
            let byAddress = address.flatMap { tables.addresses.retryAfter($0, now: now) }
            return [byName, byAddress].compactMap { $0 }.max()
        }
    }

    /// Records a failed sign-in.
    public func recordFailure(name: String, address: String?, now: Int64) {
        self.tables.withLockedValue { tables in
            tables.names.record(Self.key(name), now: now)
            if let address { tables.addresses.record(address, now: now) }
        }
    }

    /// Forgets the failures of a name that signed in; its address keeps its count.
    public func recordSuccess(name: String) {
        self.tables.withLockedValue { $0.names.reset(Self.key(name)) }
    }

    /// Names are unique without regard to case, so `Alice` and `alice` share a count.
    private static func key(_ name: String) -> String { name.lowercased() }
}
