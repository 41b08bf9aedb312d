/// How an ``AMQPRecoveringConnection`` waits between reconnection attempts: exponential
/// backoff with jitter, capped.
///
/// ``delay(attempt:random:)`` is the one backoff computation of the project: Warren's services
/// reconnect with it too (WarrenServices' `RoleService`, which runs every role and the web
/// role's broker link), so the library's transparent recovery and the services' supervisor
/// share the policy while each keeps its own loop.
///
/// Attempt n (from 0) waits `min(maxDelay, initialDelay × multiplier^n)`, then a random share
/// of up to `jitter` of that is taken off, so many clients cut off at once do not return in
/// lockstep.
public struct AMQPRecoveryPolicy: Sendable, Equatable {
    /// The wait before the first reconnection attempt.
    public var initialDelay: Duration
    /// The longest wait between attempts.
    public var maxDelay: Duration
    /// How much the wait grows per failed attempt.
    public var multiplier: Double
    /// The largest share (0...1) of a wait that jitter removes.
    public var jitter: Double
    /// How long an operation (publish, opening a channel) waits for the connection to come back
    /// before it fails with ``AMQPError/Code-swift.struct/timeout``.
    public var operationTimeout: Duration
    /// After this many nacks in a row on a confirm channel, the channel is reopened and the
    /// publish that completed the run is sent again once; 0 turns this off.
    public var nackRunLimit: Int

    /// Creates a policy; the defaults wait 0.1 s, 0.2 s, 0.4 s, ... up to 30 s, minus up to 20 %
    /// jitter, and reopen a confirm channel after 3 nacks in a row.
    public init(
        initialDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.2,
        operationTimeout: Duration = .seconds(30),
        nackRunLimit: Int = 3
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = min(max(jitter, 0), 1)
        self.operationTimeout = operationTimeout
        self.nackRunLimit = max(0, nackRunLimit)
    }

    /// The wait before attempt `attempt` (0 for the first), given a random value in 0...1.
    public func delay(attempt: Int, random: Double) -> Duration {
        var delay = self.initialDelay
        var step = 0
        while step < attempt, delay < self.maxDelay {
            delay = delay * self.multiplier
            step += 1
        }
        if delay > self.maxDelay { delay = self.maxDelay }
        return delay * (1 - self.jitter * min(max(random, 0), 1))
    }
}

/// A clock erased to what recovery needs, so tests can inject their own.
struct RecoveryClock: Sendable {
    /// Time since an arbitrary origin.
    let now: @Sendable () -> Duration
    let sleep: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
        self.sleep = { try await clock.sleep(for: $0) }
    }
}
