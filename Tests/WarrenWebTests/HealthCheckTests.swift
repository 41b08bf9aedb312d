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
            return counter.value.isMultiple(of: 2) ? .reachable : .unreachable("odd")
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

    @Test("The AMQP check sees a broker's connection.start")
    func greetingFromABroker() async throws {
        let listener = try await TestListener.start(greeting: TestListener.connectionStartPrefix)
        let check = amqpGreetingCheck(to: .init(host: "127.0.0.1", port: listener.port), timeout: .seconds(5))
        #expect(await check() == .reachable)
        try await listener.close()
    }

    @Test("The AMQP check refuses a closed port, with a reason")
    func closedPort() async throws {
        let port = try await TestListener.closedPort()
        let health = await amqpGreetingCheck(to: .init(host: "127.0.0.1", port: port), timeout: .seconds(5))()
        #expect(health.reachable == false)
        #expect(health.reason?.contains("cannot connect to 127.0.0.1:\(port)") == true, "\(health)")
    }

    @Test("The AMQP check refuses a TCP listener that answers in another protocol")
    func notAMQP() async throws {
        let listener = try await TestListener.start(greeting: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        let health = await amqpGreetingCheck(to: .init(host: "127.0.0.1", port: listener.port), timeout: .seconds(5))()
        #expect(health.reachable == false)
        #expect(health.reason?.contains("not with AMQP connection.start (first bytes: 48 54 54 50 2F 31 2E 31)") == true, "\(health)")
        try await listener.close()
    }

    @Test("The AMQP check refuses a listener that never answers, once its timeout is over")
    func silentListener() async throws {
        let listener = try await TestListener.start(greeting: nil)
        let health = await amqpGreetingCheck(to: .init(host: "127.0.0.1", port: listener.port), timeout: .milliseconds(300))()
        #expect(health.reachable == false)
        #expect(health.reason?.contains("no AMQP answer from 127.0.0.1:\(listener.port) within 300 ms") == true, "\(health)")
        try await listener.close()
    }

    @Test("The AMQP check names another AMQP version")
    func otherVersion() async throws {
        let listener = try await TestListener.start(greeting: Array("AMQP".utf8) + [0, 0, 9, 0])
        let health = await amqpGreetingCheck(to: .init(host: "127.0.0.1", port: listener.port), timeout: .seconds(5))()
        #expect(health.reason?.contains("another AMQP version (it answered with protocol header AMQP 0 0 9 0)") == true, "\(health)")
        try await listener.close()
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
