import Synchronization
import Testing
import WarrenCore

struct TaskGroupFirstFailureTests {
    struct Boom: Error {}

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { self.value.withLock { $0 = true } }
        var isSet: Bool { self.value.withLock { $0 } }
    }

    @Test func theFirstFailureCancelsTheSiblingsAndIsRethrown() async {
        let cancelled = Flag()
        let handled = Flag()
        var thrown: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // A sibling loop that ends when cancelled, as a consumer loop does (and by
                // itself after a while, so the test ends even if nothing cancels it).
                group.addTask {
                    do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.set() }
                }
                group.addTask { throw Boom() }
                try await group.waitForAllOrFirstFailure { handled.set() }
            }
        } catch {
            thrown = error
        }
        #expect(thrown is Boom)
        #expect(cancelled.isSet, "the sibling was not cancelled")
        #expect(handled.isSet, "onFailure did not run")
    }

    @Test func withoutAFailureEveryTaskFinishes() async throws {
        let handled = Flag()
        let sum = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            for index in 1...3 { group.addTask { try await Task.sleep(for: .milliseconds(10 * index)); return index } }
            try await group.waitForAllOrFirstFailure { handled.set() }
            return 6
        }
        #expect(sum == 6)
        #expect(!handled.isSet)
    }
}
