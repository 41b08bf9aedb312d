/// Heartbeat bookkeeping: when we last wrote and last read anything.
///
/// We send a heartbeat when nothing was written for a whole interval and declare the peer
/// dead after two intervals without a single byte from it. The timer runs every half interval,
/// so a heartbeat leaves at most 1.5 intervals after our last write, inside the 2 intervals
/// RabbitMQ allows.
struct HeartbeatState {
    /// The negotiated interval in nanoseconds; 0 disables heartbeats.
    var interval: UInt64 = 0
    private(set) var lastRead: UInt64 = 0
    private(set) var lastWrite: UInt64 = 0

    mutating func bytesReceived(now: UInt64) {
        self.lastRead = now
    }

    mutating func bytesWritten(now: UInt64) {
        self.lastWrite = now
    }
}

extension ConnectionStateMachine {
    /// How often the handler should call ``heartbeatTimerFired(now:)``, in nanoseconds; nil when
    /// heartbeats are off.
    var heartbeatTimerPeriod: UInt64? {
        guard let negotiated = self.negotiated, negotiated.heartbeat > 0 else { return nil }
        return UInt64(negotiated.heartbeat) * 1_000_000_000 / 2
    }

    /// Bytes (any frame) arrived.
    mutating func bytesReceived(now: UInt64) {
        self.heartbeatState.bytesReceived(now: now)
    }

    /// Bytes were written.
    mutating func bytesWritten(now: UInt64) {
        self.heartbeatState.bytesWritten(now: now)
    }

    /// The heartbeat timer fired.
    mutating func heartbeatTimerFired(now: UInt64) -> Action {
        guard self.isOpen, self.heartbeatState.interval > 0 else { return .none }
        let interval = self.heartbeatState.interval
        if now >= self.heartbeatState.lastRead, now - self.heartbeatState.lastRead >= 2 * interval {
            let seconds = interval / 1_000_000_000
            // The broker is silent: do not wait for a close-ok it will not send, close the
            // socket now so closeReason(), pending calls and consumers learn it at once.
            return self.fail(
                AMQPError(
                    code: .heartbeatTimeout,
                    replyCode: 320,
                    message: "no data from the broker for \(2 * seconds) s (two heartbeat intervals)"
                )
            )
        }
        if now >= self.heartbeatState.lastWrite, now - self.heartbeatState.lastWrite >= interval {
            return .sendHeartbeat
        }
        return .none
    }
}
