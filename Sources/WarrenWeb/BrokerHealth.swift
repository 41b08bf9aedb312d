import Logging

/// What `/healthz` knows about the broker: reachable, or not and why.
///
/// A boolean literal makes one (`true` is reachable; `false` is unreachable with a generic
/// reason), so a stand-in check in a test can stay `{ true }`.
public struct BrokerHealth: Sendable, Equatable, ExpressibleByBooleanLiteral, CustomStringConvertible {
    /// Whether the broker answered as an AMQP 0-9-1 broker.
    public var reachable: Bool
    /// Why it is not reachable, for people reading `/healthz`; nil when it is.
    public var reason: String?

    /// The broker answered.
    public static let reachable = BrokerHealth(reachable: true, reason: nil)

    /// The broker did not answer as one should.
    /// - Parameter reason: a sentence for the `/healthz` body, e.g. "connection refused by 127.0.0.1:5672".
    public static func unreachable(_ reason: String) -> BrokerHealth {
        BrokerHealth(reachable: false, reason: reason)
    }

    private init(reachable: Bool, reason: String?) {
        self.reachable = reachable
        self.reason = reason
    }

    /// `true` is ``reachable``; `false` is unreachable for an unnamed reason.
    public init(booleanLiteral value: Bool) {
        self = value ? .reachable : .unreachable("the broker check failed")
    }

    /// `reachable`, or `unreachable: REASON`.
    public var description: String {
        self.reason.map { "unreachable: \($0)" } ?? "reachable"
    }
}

/// Answers "is the broker reachable?" for `/healthz`, remembering the answer for a short time.
///
/// A storm of health probes must not become a storm of sockets to the broker: an answer younger
/// than `maximumAge` is reused, and probes that arrive while a check runs wait for that check
/// instead of starting their own.
public actor CachedHealthCheck<C: Clock> where C.Duration == Duration {
    private let check: @Sendable () async -> BrokerHealth
    private let maximumAge: Duration
    private let clock: C
    private var lastAnswer: (health: BrokerHealth, at: C.Instant)?
    private var running: Task<BrokerHealth, Never>?

    /// Creates a cache around a check.
    /// - Parameters:
    ///   - maximumAge: how long an answer is reused.
    ///   - clock: the clock that ages answers; injected so tests need not sleep.
    ///   - check: the real, possibly slow, check.
    public init(maximumAge: Duration = .seconds(1), clock: C, check: @escaping @Sendable () async -> BrokerHealth) {
        self.check = check
        self.maximumAge = maximumAge
        self.clock = clock
    }

    /// The latest answer, checking again when the remembered one is too old.
    public func health() async -> BrokerHealth {
        if let lastAnswer, lastAnswer.at.duration(to: self.clock.now) < self.maximumAge {
            return lastAnswer.health
        }
        if let running {
            return await running.value
        }
        let check = self.check
        let task = Task { await check() }
        self.running = task
        let health = await task.value
        self.lastAnswer = (health, self.clock.now)
        self.running = nil
        return health
    }

    /// Whether the latest answer is ``BrokerHealth/reachable``.
    public func isReachable() async -> Bool {
        await self.health().reachable
    }
}

extension CachedHealthCheck where C == ContinuousClock {
    /// Creates a cache around a check, aged by the continuous clock.
    public init(maximumAge: Duration = .seconds(1), check: @escaping @Sendable () async -> BrokerHealth) {
        self.init(maximumAge: maximumAge, clock: ContinuousClock(), check: check)
    }
}
