import Foundation
import Testing
import WarrenServices

@Suite struct CronTickFilterTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func postsEachTickOnceAndSkipsOlderAndStaleOnes() {
        var filter = CronRole.TickFilter(staleness: 5)
        #expect(filter.shouldPost(t0, now: t0))
        filter.lastPosted = t0
        #expect(!filter.shouldPost(t0, now: t0))  // the other copy's tick for the same time
        #expect(!filter.shouldPost(t0.addingTimeInterval(-1), now: t0))
        #expect(filter.shouldPost(t0.addingTimeInterval(1), now: t0.addingTimeInterval(1)))
        #expect(!filter.shouldPost(t0.addingTimeInterval(2), now: t0.addingTimeInterval(10)))  // stale
    }

    @Test func scaledClockRunsFaster() async throws {
        let clock = ScaledCronClock(origin: t0, speed: 50)
        try await Task.sleep(for: .milliseconds(20))
        // 20 ms of real time (or more, on a busy machine) are at least a second on this clock.
        #expect(clock.now() >= t0.addingTimeInterval(1))
        try await clock.sleep(until: t0.addingTimeInterval(2))
        #expect(clock.now() >= t0.addingTimeInterval(2))
    }
}
