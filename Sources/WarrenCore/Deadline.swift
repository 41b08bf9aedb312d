import Synchronization

/// Thrown by ``withDeadline(_:_:_:)`` when the work did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible, Sendable {
    /// What was being waited for, e.g. "the login of alice".
    public let what: String
    /// The limit that passed.
    public let limit: Duration

    /// Creates the error.
    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    /// "timed out after 10.0 seconds waiting for …".
    public var description: String { "timed out after \(self.limit) waiting for \(self.what)" }
}

/// Runs `body` and returns its result, or throws ``DeadlineExceeded`` once `limit` has passed.
///
/// At the deadline the body's task is cancelled and this returns at once, even when the body
/// is blocked in something that does not answer cancellation (a future's `get()`, say): the
/// caller is never held past the limit. The body then finishes on its own, and its result is
/// dropped; so give it only work whose own waits are bounded too. The deadline's timer runs on
/// the cooperative pool: a body that blocks a thread of it (rather than awaiting) can keep the
/// timer waiting when the pool has no other thread free.
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: @autoclosure () -> String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let description = what()
    let gate = DeadlineGate<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            gate.arm(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                gate.finish(result)
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if gate.finish(.failure(DeadlineExceeded(what: description, limit: limit))) { work.cancel() }
            }
            gate.onFinish { work.cancel(); timer.cancel() }
        }
    } onCancel: {
        gate.finish(.failure(CancellationError()))
    }
}

/// Resumes a continuation once, with whichever result comes first.
private final class DeadlineGate<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early = self.state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Registers what to run once a result is in (at once, if it already is).
    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let runNow = self.state.withLock { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if runNow { cleanup() }
    }

    /// Delivers `result` if nothing came before; says whether it did.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, cleanup, won) = self.state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) in
            guard !state.done else { return (nil, nil, false) }
            state.done = true
            if state.continuation == nil { state.early = result }
            defer { state.continuation = nil; state.cleanup = nil }
            return (state.continuation, state.cleanup, true)
        }
        continuation?.resume(with: result)
        cleanup?()
        return won
    }
}
