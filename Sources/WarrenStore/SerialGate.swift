/// Lets one task at a time through, in arrival order: SQLite has one writer, and a transaction
/// spans several calls on one connection, so two tasks must never interleave inside one.
actor SerialGate {
    private var held = false
    // Bounded by the number of tasks calling at once: each waits for its own turn only.
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once every earlier caller is done.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
