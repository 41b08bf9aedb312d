import Dispatch
import Foundation
import Testing
@testable import WarrenAuth

/// A gate jobs wait at until the test opens it: holds a pool's threads busy.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    /// Blocks the calling (pool) thread until ``open(for:)``.
    func pass() { semaphore.wait() }

    /// Lets `count` waiting jobs through.
    func open(for count: Int) { for _ in 0..<count { semaphore.signal() } }
}

/// Holds one thread of `pool` busy until the returned gate opens; returns once the job runs.
func holdThread(of pool: PasswordHashPool) async -> (gate: Gate, job: Task<Void, any Error>) {
    let gate = Gate()
    let running = Counter()
    let job = Task {
        try await pool.run {
            running.enter()
            gate.pass()
        }
    }
    #expect(await eventually { running.most == 1 }, "the holding job started")
    return (gate, job)
}

/// Waits (at most 10 s) until `condition` holds; false when it never did.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<1_000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

@Suite("Password hash pool")
struct PasswordHashPoolTests {
    @Test func workRunsOnAThreadOfThePoolsOwn() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 1)
        let name = try await pool.run { Thread.current.name ?? "" }
        #expect(name == "warren-hash-0")
        #expect(try await pool.run { 6 * 7 } == 42)
    }

    @Test func aFullQueueRefusesAtOnceAndTheQueuedJobsStillRun() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 2)
        let gate = Gate()
        // One job holds the thread, two wait in the queue.
        let held = (0..<3).map { index in Task { try await pool.run { gate.pass(); return index } } }
        #expect(await eventually { pool.waiting == 2 }, "two jobs wait behind the running one")
        let started = ContinuousClock.now
        await #expect(throws: PasswordHashPool.Full(retryAfter: 1)) { try await pool.run { 0 } }
        #expect(started.duration(to: .now) < .seconds(5), "refused without waiting for a thread")
        gate.open(for: 3)
        var results: [Int] = []
        for task in held { results.append(try await task.value) }
        #expect(results == [0, 1, 2])
        #expect(try await pool.run { 7 } == 7, "room again once the queue drained")
    }

    @Test func noMoreJobsRunAtOnceThanThePoolHasThreads() async throws {
        let pool = PasswordHashPool(threads: 2, queueCapacity: 20)
        let running = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await pool.run {
                        running.enter()
                        Thread.sleep(forTimeInterval: 0.01)
                        running.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(running.most == 2)
    }

    @Test func aPoolWithoutAQueueTakesOneJobPerIdleThread() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 0)
        let (gate, held) = await holdThread(of: pool)
        await #expect(throws: PasswordHashPool.Full.self) { try await pool.run { () } }
        gate.open(for: 1)
        try await held.value
        #expect(await eventually { pool.waiting == 0 })
    }

    @Test func aCallerThatWaitsForEachJobIsNeverRefused() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 0)
        for index in 0..<200 { #expect(try await pool.run { index } == index) }
    }

    @Test func theUnboundedWayNeverRefuses() async throws {
        let pool = PasswordHashPool.unbounded()
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 { group.addTask { try await pool.run { index } } }
            return try await group.reduce(0, +)
        }
        #expect(sum == 50 * 49 / 2)
        #expect(pool.threads == nil && pool.queueCapacity == nil)
    }
}

/// Counts jobs running at once and remembers the most.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0
    private var peak = 0

    func enter() { lock.withLock { now += 1; peak = max(peak, now) } }
    func leave() { lock.withLock { now -= 1 } }
    var most: Int { lock.withLock { peak } }
}
