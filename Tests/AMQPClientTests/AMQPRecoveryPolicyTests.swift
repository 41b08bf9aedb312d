import Testing

@testable import AMQPClient

@Suite("AMQPRecoveryPolicy")
struct AMQPRecoveryPolicyTests {
    @Test func exponentialBackoffCappedWithoutJitter() {
        let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2, jitter: 0)
        let delays = (0..<7).map { policy.delay(attempt: $0, random: 0.5) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
    }

    @Test func jitterTakesOffUpToItsShare() {
        let policy = AMQPRecoveryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, jitter: 0.5)
        #expect(policy.delay(attempt: 0, random: 0) == .seconds(1))
        #expect(policy.delay(attempt: 0, random: 1) == .milliseconds(500))
        #expect(policy.delay(attempt: 1, random: 0.5) == .milliseconds(1500))
        #expect(policy.delay(attempt: 100, random: 0) == .seconds(10))
    }

    @Test func jitterIsClamped() {
        #expect(AMQPRecoveryPolicy(jitter: 3).jitter == 1)
        #expect(AMQPRecoveryPolicy(jitter: -1).jitter == 0)
    }

    /// A clock the test moves by hand: sleeping records the wait and returns at once.
    final class ManualClock: Clock, @unchecked Sendable {
        struct Instant: InstantProtocol {
            var offset: Duration
            func advanced(by duration: Duration) -> Instant { Instant(offset: self.offset + duration) }
            func duration(to other: Instant) -> Duration { other.offset - self.offset }
            static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        }

        var now = Instant(offset: .zero)
        var minimumResolution: Duration { .zero }
        var sleeps: [Duration] = []

        func sleep(until deadline: Instant, tolerance: Duration?) async throws {
            self.sleeps.append(self.now.duration(to: deadline))
            self.now = deadline
        }
    }

    @Test func recoveryClockUsesTheInjectedClock() async throws {
        let manual = ManualClock()
        let clock = RecoveryClock(manual)
        #expect(clock.now() == .zero)
        try await clock.sleep(.seconds(3))
        #expect(clock.now() == .seconds(3))
        #expect(manual.sleeps == [.seconds(3)])
    }
}
