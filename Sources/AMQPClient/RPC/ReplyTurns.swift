import NIOConcurrencyHelpers

/// One holder at a time, in the order they asked, each waiting at most a given time: the turns
/// of ``AMQPDirectReplies``' retries, so a retried reply is the only publish on its connection.
final class ReplyTurns: Sendable {
    private struct State {
        var held = false
        var nextTicket: UInt64 = 0
        var waiting: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        /// Tickets taken but not yet put in line (their waiter is on its way).
        var taken: Set<UInt64> = []
        /// Of those, the ones whose time ran out before they were put in line.
        var expired: Set<UInt64> = []
    }

    private let state = NIOLockedValueBox(State())

    /// Whether a turn is held now (for tests).
    var isHeld: Bool { self.state.withLockedValue { $0.held } }
    /// How many wait for a turn (for tests).
    var waitingCount: Int { self.state.withLockedValue { $0.waiting.count } }
    /// How many tickets the turns keep track of outside the line (for tests).
    var keptTickets: Int { self.state.withLockedValue { $0.taken.count + $0.expired.count } }

    /// Returns once it is the caller's turn; call ``end()`` when done.
    /// - Throws: ``AMQPError`` `timeout` when the turn did not come within `limit` (the caller
    ///   then holds none).
    func begin(within limit: Duration) async throws {
        let ticket: UInt64? = self.state.withLockedValue { state in
            if !state.held {
                state.held = true
                return nil
            }
            state.nextTicket += 1
            state.taken.insert(state.nextTicket)
            return state.nextTicket
        }
        guard let ticket else { return }
        let timer = Task { [weak self] in
            do { try await Task.sleep(for: limit) } catch { return }  // cancelled: the turn came
            self?.expire(ticket, limit: limit)
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let late = self.state.withLockedValue { state -> Bool in
                state.taken.remove(ticket)
                if state.expired.remove(ticket) != nil { return true }
                // The turn may have ended between taking the ticket and now.
                if !state.held {
                    state.held = true
                    continuation.resume()
                } else {
                    state.waiting.append((ticket, continuation))
                }
                return false
            }
            if late { continuation.resume(throwing: Self.timeout(limit)) }
        }
    }

    /// Ends the caller's turn: the next waiting caller, if any, has it.
    func end() {
        let next = self.state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiting.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }

    /// The time of `ticket` ran out: it leaves the line, or is marked for its waiter on its way.
    func expire(_ ticket: UInt64, limit: Duration) {
        let late = self.state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            guard let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) else {
                // Not in line yet: its waiter sees this when it gets there. Otherwise it had its
                // turn already, and nothing is kept.
                if state.taken.contains(ticket) { state.expired.insert(ticket) }
                return nil
            }
            return state.waiting.remove(at: index).continuation
        }
        late?.resume(throwing: Self.timeout(limit))
    }

    private static func timeout(_ limit: Duration) -> AMQPError {
        AMQPError(code: .timeout, message: "no turn to retry a reply within \(limit)")
    }
}
