import NIOConcurrencyHelpers

/// Token families revoked by this process, remembered until their access tokens have expired.
///
/// The broker's checks must not touch the database, so an access token is trusted until it
/// expires; this list lets a sign-out (or a detected refresh-token reuse) end the family's
/// access tokens at once on this web role. Bounded: at most `capacity` families, the ones that
/// expire soonest dropped first when full (their tokens then live out their few minutes).
public final class RevokedFamilies: Sendable {
    private let state: NIOLockedValueBox<[String: Int64]>
    private let capacity: Int

    /// Creates an empty list holding at most `capacity` families.
    public init(capacity: Int = 100_000) {
        precondition(capacity > 0)
        self.state = NIOLockedValueBox([:])
        self.capacity = capacity
    }

    /// Remembers that `family` is revoked until `until` (seconds since 1970).
    public func revoke(_ family: String, until: Int64, now: Int64) {
        self.state.withLockedValue { revoked in
            if revoked[family] == nil, revoked.count >= self.capacity {
                revoked = revoked.filter { $0.value > now }
                if revoked.count >= self.capacity, let soonest = revoked.min(by: { $0.value < $1.value }) {
                    revoked[soonest.key] = nil
                }
            }
            revoked[family] = max(revoked[family] ?? 0, until)
        }
    }

    /// True when `family` was revoked and its tokens may still be unexpired.
    public func isRevoked(_ family: String, now: Int64) -> Bool {
        self.state.withLockedValue { ($0[family] ?? .min) > now }
    }
}
