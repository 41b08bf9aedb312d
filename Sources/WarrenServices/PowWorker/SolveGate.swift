import NIOConcurrencyHelpers

/// Lets a few proofs run at once (each uses every core) and a bounded number wait their turn;
/// a waiter whose task is cancelled (its caller's deadline passed) leaves the line at once.
///
/// The PoW worker's gRPC `Solve` calls pass through it, as the job and RPC queues' prefetch 1
/// does for the broker's paths: a flood of calls waits here or is refused, never piles up
/// searches that share the cores.
final class SolveGate: Sendable {
    /// The line is full: the caller is told to try another worker or later.
    struct Full: Error {}

    private struct State {
        var running = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    /// Proofs run at once.
    let concurrency: Int
    /// Calls that may wait for a turn.
    let waitingMax: Int

    init(concurrency: Int, waitingMax: Int) {
        self.concurrency = max(1, concurrency)
        self.waitingMax = max(0, waitingMax)
    }

    /// Waits for a turn; throws ``Full`` when the line is full and `CancellationError` when the
    /// task is cancelled while it waits. Call ``leave()`` after a turn that was given.
    func enter() async throws {
        let id = self.state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = self.state.withLockedValue { state in
                    if state.running < self.concurrency {
                        state.running += 1
                        return .success(())
                    }
                    if state.waiters.count >= self.waitingMax { return .failure(Full()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Ends a turn: the longest waiter gets it.
    func leave() {
        let next = self.state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }

    /// Calls waiting now.
    var waiting: Int { self.state.withLockedValue { $0.waiters.count } }
}
