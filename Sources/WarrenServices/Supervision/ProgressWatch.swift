import NIOConcurrencyHelpers

/// Notices a loop that has stopped making progress while work waits: a pure decision-maker,
/// fed what happens and asked at intervals, with time passed in.
///
/// Work that starts and finishes is progress; a check that finds work in flight and nothing
/// finished for `patience` reports a stall once, and the first finish after a stall reports the
/// recovery. An idle loop (nothing in flight) is never stalled.
struct ProgressWatch: Sendable {
    /// What a check found.
    enum Verdict: Equatable, Sendable {
        /// Progress, or nothing to do.
        case fine
        /// Work waits and nothing finished for `since`; reported once per stall.
        case stalled(inFlight: Int, since: Duration)
        /// The loop moved again after a reported stall.
        case recovered(after: Duration)
    }

    /// How long work may wait with nothing finished before it counts as a stall.
    let patience: Duration
    /// Work started and not finished.
    private(set) var inFlight = 0
    private var lastProgress: Duration
    private var stalledSince: Duration?

    /// Creates a watch at `now` (any monotonic time, e.g. since the process started).
    init(patience: Duration, now: Duration) {
        self.patience = patience
        self.lastProgress = now
    }

    /// A piece of work started.
    mutating func started(now: Duration) {
        if self.inFlight == 0 { self.lastProgress = now }
        self.inFlight += 1
    }

    /// A piece of work finished (well or not): progress.
    mutating func finished(now: Duration) -> Verdict {
        self.inFlight = max(0, self.inFlight - 1)
        self.lastProgress = now
        guard let since = self.stalledSince else { return .fine }
        self.stalledSince = nil
        return .recovered(after: now - since)
    }

    /// Looks at the loop at `now`.
    mutating func checked(now: Duration) -> Verdict {
        guard self.inFlight > 0, self.stalledSince == nil, now - self.lastProgress >= self.patience else { return .fine }
        self.stalledSince = self.lastProgress
        return .stalled(inFlight: self.inFlight, since: now - self.lastProgress)
    }
}

/// A ``ProgressWatch`` behind a lock on the continuous clock, for a role's tasks to share.
final class SharedProgressWatch: Sendable {
    private let origin = ContinuousClock.now
    private let box: NIOLockedValueBox<ProgressWatch>

    init(patience: Duration) {
        self.box = NIOLockedValueBox(ProgressWatch(patience: patience, now: .zero))
    }

    private var now: Duration { ContinuousClock.now - self.origin }

    func started() {
        let now = self.now
        self.box.withLockedValue { $0.started(now: now) }
    }

    func finished() -> ProgressWatch.Verdict {
        let now = self.now
        return self.box.withLockedValue { $0.finished(now: now) }
    }

    func checked() -> ProgressWatch.Verdict {
        let now = self.now
        return self.box.withLockedValue { $0.checked(now: now) }
    }
}
