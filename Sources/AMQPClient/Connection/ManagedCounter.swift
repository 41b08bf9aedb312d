import Atomics

/// A process-wide counter for ids (connections, consumers).
final class ManagedCounter: Sendable {
    private let value = ManagedAtomic<UInt64>(0)

    func next() -> UInt64 {
        self.value.loadThenWrappingIncrement(ordering: .relaxed) + 1
    }
}
