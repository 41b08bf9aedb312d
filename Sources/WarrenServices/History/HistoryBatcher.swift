import WarrenCore

/// The history writer's decisions, with no I/O: which deliveries to write together, when to
/// acknowledge, requeue or dead-letter them, and when a barrier may be answered.
///
/// Its driver (``HistoryRole``) feeds it what happened — `received`, `barrierReceived`,
/// `malformedReceived`, `timerFired`, `writeSucceeded`, `writeFailed`, `finishing` — and carries
/// out the actions it returns, in order. The driver does one write at a time and reports its
/// outcome before feeding anything else.
///
/// The rules:
/// - events wait in a batch until it holds `batchSize` or the first of them has waited
///   `flushInterval`;
/// - a batch is acknowledged (one `basic.ack` with `multiple`) only after the store committed it;
/// - when a write fails, nothing is acknowledged: after a backoff that grows with each failure in
///   a row (capped), everything outstanding is requeued with one `basic.nack` (`multiple`,
///   `requeue`), so the broker delivers it again; the store skips ids it already holds;
/// - a barrier (see ``HistoryRole``) first has the events before it written, then is answered;
/// - anything else is dead-lettered at once.
///
/// Delivery tags grow on one channel, and everything below a batch's last tag that is still
/// unacknowledged is in that batch (barriers are answered only with no batch waiting, and
/// dead-lettered deliveries are settled), so `ack(upTo:)` acknowledges exactly the batch.
public struct HistoryBatcher: Sendable {
    /// What the driver must do.
    public enum Action: Equatable, Sendable {
        /// Write these events in one transaction, then report ``writeSucceeded()`` or ``writeFailed(now:)``.
        case write([RoomEvent])
        /// Acknowledge every delivery up to and including this tag (`multiple`).
        case ack(upTo: UInt64)
        /// Wait `after`, then reject every unacknowledged delivery up to and including this tag
        /// with requeue (`multiple`).
        case requeue(upTo: UInt64, after: Duration)
        /// Reject this delivery without requeue (to the dead-letter queue), logging `reason`.
        case deadLetter(tag: UInt64, reason: String)
        /// Report ``timerFired(now:)`` at this instant (an earlier report does no harm).
        case scheduleFlush(at: ContinuousClock.Instant)
        /// Answer the barrier with this tag now: every event before it is written. Acknowledge
        /// it afterwards.
        case answerBarrier(tag: UInt64)
    }

    /// The most events in one write.
    public let batchSize: Int
    /// How long the first waiting event waits for the batch to fill.
    public let flushInterval: Duration
    /// The backoff after the first failed write; it doubles with each failure in a row.
    public let initialBackoff: Duration
    /// The longest backoff.
    public let maxBackoff: Duration

    private var pending: [(tag: UInt64, event: RoomEvent)] = []
    private var firstPendingAt: ContinuousClock.Instant?
    /// The batch being written, if a write is out.
    private var writing: [(tag: UInt64, event: RoomEvent)]?
    /// A barrier waiting for the events before it to be written.
    private var waitingBarrier: UInt64?
    /// The highest delivery tag seen.
    private var highestTag: UInt64 = 0
    /// Failed writes in a row.
    public private(set) var failuresInARow = 0

    /// Creates a batcher.
    public init(
        batchSize: Int,
        flushInterval: Duration,
        initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(5)
    ) {
        precondition(batchSize >= 1, "a batch holds at least one event")
        self.batchSize = batchSize
        self.flushInterval = flushInterval
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// How many events wait, not counting a batch being written.
    public var pendingCount: Int { self.pending.count }
    /// Whether a write is out.
    public var isWriting: Bool { self.writing != nil }

    /// A room event was delivered with `tag` at `now`.
    public mutating func received(tag: UInt64, event: RoomEvent, now: ContinuousClock.Instant) -> [Action] {
        self.see(tag)
        self.pending.append((tag, event))
        if self.pending.count == 1 {
            self.firstPendingAt = now
        }
        if let write = self.startWriteIfFull() { return [write] }
        return self.pending.count == 1 ? [.scheduleFlush(at: now + self.flushInterval)] : []
    }

    /// A barrier was delivered with `tag`.
    public mutating func barrierReceived(tag: UInt64) -> [Action] {
        self.see(tag)
        precondition(self.waitingBarrier == nil, "a barrier arrived while another waited: the driver must wait for the write")
        if self.pending.isEmpty && self.writing == nil {
            return [.answerBarrier(tag: tag)]
        }
        self.waitingBarrier = tag
        return self.writing == nil ? [self.startWrite()] : []
    }

    /// Something that is neither a room event nor a barrier was delivered with `tag`.
    public mutating func malformedReceived(tag: UInt64, reason: String) -> [Action] {
        self.see(tag)
        return [.deadLetter(tag: tag, reason: reason)]
    }

    /// A scheduled flush time came (or the driver checks early).
    public mutating func timerFired(now: ContinuousClock.Instant) -> [Action] {
        guard self.writing == nil, let first = self.firstPendingAt, !self.pending.isEmpty else { return [] }
        let due = first + self.flushInterval
        guard now >= due else { return [.scheduleFlush(at: due)] }
        return [self.startWrite()]
    }

    /// The store committed the batch of the last `write`.
    public mutating func writeSucceeded() -> [Action] {
        guard let batch = self.writing else { preconditionFailure("writeSucceeded without a write") }
        self.writing = nil
        self.failuresInARow = 0
        var actions: [Action] = [.ack(upTo: batch.last!.tag)]
        if let barrier = self.waitingBarrier {
            if self.pending.isEmpty {
                self.waitingBarrier = nil
                actions.append(.answerBarrier(tag: barrier))
            } else {
                actions.append(self.startWrite())
            }
        } else if let write = self.startWriteIfFull() {
            actions.append(write)
        } else if let first = self.firstPendingAt, !self.pending.isEmpty {
            // A flush time that came during the write found nothing to do: ask again.
            actions.append(.scheduleFlush(at: first + self.flushInterval))
        }
        return actions
    }

    /// The store failed to commit the batch of the last `write`: everything outstanding goes
    /// back to the queue, after a backoff.
    public mutating func writeFailed() -> [Action] {
        guard self.writing != nil else { preconditionFailure("writeFailed without a write") }
        self.writing = nil
        self.pending.removeAll()
        self.firstPendingAt = nil
        self.waitingBarrier = nil
        self.failuresInARow += 1
        return [.requeue(upTo: self.highestTag, after: self.backoff(failures: self.failuresInARow))]
    }

    /// The consumer ended (shutdown): write what waits, if anything.
    public mutating func finishing() -> [Action] {
        guard self.writing == nil, !self.pending.isEmpty else { return [] }
        return [self.startWrite()]
    }

    /// The backoff after `failures` failed writes in a row: doubling from ``initialBackoff``, at
    /// most ``maxBackoff``.
    public func backoff(failures: Int) -> Duration {
        var delay = self.initialBackoff
        for _ in 1..<max(1, failures) {
            delay *= 2
            if delay >= self.maxBackoff { return self.maxBackoff }
        }
        return min(delay, self.maxBackoff)
    }

    // MARK: Inside

    private mutating func see(_ tag: UInt64) {
        self.highestTag = max(self.highestTag, tag)
    }

    private mutating func startWriteIfFull() -> Action? {
        guard self.writing == nil, self.pending.count >= self.batchSize else { return nil }
        return self.startWrite()
    }

    private mutating func startWrite() -> Action {
        precondition(self.writing == nil && !self.pending.isEmpty, "a write needs events and no write out")
        let count = min(self.batchSize, self.pending.count)
        let batch = Array(self.pending.prefix(count))
        self.pending.removeFirst(count)
        self.firstPendingAt = self.pending.isEmpty ? nil : self.firstPendingAt
        self.writing = batch
        return .write(batch.map(\.event))
    }
}
