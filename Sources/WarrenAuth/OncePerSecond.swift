import NIOConcurrencyHelpers

/// Counts events and says when to log them: at most once a second, with how many there were
/// since the last line, so a flood of refusals makes one log line a second, not one each.
public final class OncePerSecond: Sendable {
    private let state = NIOLockedValueBox<(lastLogged: Int64, unlogged: Int)>((Int64.min, 0))

    /// Creates a counter.
    public init() {}

    /// Counts one event at `now` (seconds); returns how many to log now, or nil to stay quiet.
    public func counted(now: Int64) -> Int? {
        self.state.withLockedValue { state in
            state.unlogged += 1
            guard now > state.lastLogged else { return nil }
            let count = state.unlogged
            state = (now, 0)
            return count
        }
    }
}
