#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The wall clock the cron role reads and sleeps on, injected so tests need not wait.
public protocol CronClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Sleeps until `date` (returns at once when it has passed); throws when cancelled.
    func sleep(until date: Date) async throws
}

/// The real clock.
public struct SystemCronClock: CronClock {
    /// Creates the clock.
    public init() {}

    /// The current time.
    public func now() -> Date { Date() }

    /// Sleeps until `date`.
    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// A clock that runs `speed` times faster than real time from when it was made; two roles
/// sharing one instance agree on the time, like two processes on one host.
public struct ScaledCronClock: CronClock {
    let origin: Date
    let started: ContinuousClock.Instant
    let speed: Double

    /// Creates a clock that starts at `origin` and runs `speed` times as fast as real time.
    public init(origin: Date = Date(), speed: Double) {
        self.origin = origin
        self.started = ContinuousClock.now
        self.speed = max(speed, 0.001)
    }

    /// The scaled time.
    public func now() -> Date {
        let elapsed = ContinuousClock.now - self.started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return self.origin.addingTimeInterval(seconds * self.speed)
    }

    /// Sleeps the real time that corresponds to scaled time until `date`.
    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSince(self.now()) / self.speed
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}
