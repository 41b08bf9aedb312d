import NIOConcurrencyHelpers

/// Throttles registrations per client address and in all, per minute: the shared, thread-safe
/// face of two ``ThrottleTable``s.
///
/// Every registration that gets past the throttle counts, whatever happens to it next (made,
/// name taken, weak password), and the throttle decides before the name is looked at: a refused
/// request says nothing about the name it carried, and asking which names exist costs a
/// registration each.
public final class RegistrationThrottle: Sendable {
    private let tables: NIOLockedValueBox<(addresses: ThrottleTable, everyone: ThrottleTable)>
    /// The one key of the table that counts everyone's registrations together.
    private static let everyone = "*"

    /// Creates a throttle.
    /// - Parameters:
    ///   - perAddress: registrations one address may make within `window` seconds.
    ///   - overall: registrations everyone together may make within `window` seconds.
    ///   - window: the window's length in seconds.
    ///   - capacity: the most addresses remembered.
    public init(perAddress: Int = 5, overall: Int = 60, window: Int64 = 60, capacity: Int = 100_000) {
        self.tables = NIOLockedValueBox(
            (
                ThrottleTable(limit: perAddress, window: window, capacity: capacity),
                ThrottleTable(limit: overall, window: window, capacity: 2)
            )
        )
    }

    /// Counts one registration from `address` and returns nil, or, when the address or everyone
    /// has made their share this window, counts nothing and returns the seconds to wait.
    /// - Parameter address: the client's address; nil (in-process callers) counts only in all.
    public func admit(address: String?, now: Int64) -> Int64? {
        self.tables.withLockedValue { tables in
            let byAddress = address.flatMap { tables.addresses.retryAfter($0, now: now) }
            let overall = tables.everyone.retryAfter(Self.everyone, now: now)
            if let wait = [byAddress, overall].compactMap({ $0 }).max() { return wait }
            if let address { tables.addresses.record(address, now: now) }
            tables.everyone.record(Self.everyone, now: now)
            return nil
        }
    }
}
