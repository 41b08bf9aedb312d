import Testing

@testable import WarrenServices

struct RecentQueuesTests {
    let start = ContinuousClock.now

    @Test func aQueueIsTrustedForItsLifetimeOnly() {
        var recent = RecentQueues(lifetime: .seconds(1))
        let seen1 = recent.contains("q", now: start)
        #expect(!seen1)
        recent.insert("q", now: start)
        let seen2 = recent.contains("q", now: start + .milliseconds(999))
        #expect(seen2)
        let seen3 = recent.contains("q", now: start + .seconds(1))
        #expect(!seen3)
        #expect(recent.count == 0, "a stale name is dropped when found stale")
    }

    @Test func aMissingQueueIsForgotten() {
        var recent = RecentQueues(lifetime: .seconds(1))
        recent.insert("q", now: start)
        recent.remove("q")
        let seen4 = recent.contains("q", now: start)
        #expect(!seen4)
    }

    @Test func noLifetimeRemembersNothing() {
        var recent = RecentQueues(lifetime: .zero)
        recent.insert("q", now: start)
        let seen5 = recent.contains("q", now: start)
        #expect(!seen5)
        #expect(recent.count == 0)
    }

    @Test func itNeverHoldsMoreThanItsCapacity() {
        var recent = RecentQueues(lifetime: .seconds(10), capacity: 3)
        for index in 0..<3 { recent.insert("q\(index)", now: start + .seconds(index)) }
        #expect(recent.count == 3)
        // Full and nothing stale: everything goes, the new name stays.
        recent.insert("new", now: start + .seconds(5))
        #expect(recent.count == 1)
        let seen6 = recent.contains("new", now: start + .seconds(5))
        #expect(seen6)
        // Full with stale names: only those go.
        recent.insert("a", now: start + .seconds(14))
        recent.insert("b", now: start + .seconds(14))
        recent.insert("c", now: start + .seconds(16))
        #expect(recent.count == 3)
        let seen7 = recent.contains("new", now: start + .seconds(16))
        #expect(!seen7)
        let seen8 = recent.contains("a", now: start + .seconds(16))
        #expect(seen8)
    }
}
