import Foundation
import NIOCore
import NIOPosix
import Testing
import WarrenWeb

@Suite("Broker health check")
struct HealthCheckTests {
    @Test("An answer is reused until it is a second old")
    func cachesForMaximumAge() async {
        let clock = ManualClock()
        let counter = Counter()
        let cache = CachedHealthCheck(maximumAge: .seconds(1), clock: clock) {
            counter.increment()
            return counter.value.isMultiple(of: 2)
        }
        #expect(await cache.isReachable() == false)
        clock.advance(by: .milliseconds(999))
        #expect(await cache.isReachable() == false)
        #expect(counter.value == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await cache.isReachable() == true)
        #expect(counter.value == 2)
    }

    @Test("Probes that arrive during a check share it")
    func concurrentProbesShareOneCheck() async {
        let counter = Counter()
        let cache = CachedHealthCheck(maximumAge: .seconds(1), clock: ManualClock()) {
            counter.increment()
            try? await Task.sleep(for: .milliseconds(200))
            return true
        }
        let answers = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { await cache.isReachable() }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: true, count: 20))
        #expect(counter.value == 1)
    }

    @Test("The TCP check sees a listening port, and not a closed one")
    func tcpCheck() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(server.localAddress?.port)
        let check = tcpReachabilityCheck(to: .init(host: "127.0.0.1", port: port), timeout: .seconds(1))
        #expect(await check() == true)

        try await server.close()
        #expect(await check() == false)
    }
}

/// A clock that moves only when told to, so cache ageing is tested without sleeping.
final class ManualClock: Clock, @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant

    private let lock = NSLock()
    private let start = ContinuousClock.now
    private var offset = Duration.zero

    var now: Instant {
        self.lock.withLock { self.start + self.offset }
    }

    var minimumResolution: Duration { .nanoseconds(1) }

    func advance(by duration: Duration) {
        self.lock.withLock { self.offset += duration }
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        // Nothing under test sleeps on this clock; returning at once keeps it honest if one does.
    }
}

/// A thread-safe counter for checks run from many tasks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { self.lock.withLock { self.count } }

    func increment() {
        self.lock.withLock { self.count += 1 }
    }
}
