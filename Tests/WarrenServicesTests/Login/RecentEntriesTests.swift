import Testing

@testable import WarrenServices

struct RecentEntriesTests {
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

    @Test func anAnswerOlderThanAForgettingIsNotKept() {
        let shared = SharedRecentQueues(lifetime: .seconds(60))
        // The post loop asks the broker about "q" ...
        let mark = shared.mark
        // ... meanwhile the login loop deletes another tab's queue and forgets it ...
        shared.remove("other")
        // ... so the answer about "q" may be older than a deletion: not kept.
        shared.insert("q", unlessRemovedSince: mark)
        #expect(!shared.contains("q"))
        // With nothing forgotten in between, it is kept.
        let fresh = shared.mark
        shared.insert("q", unlessRemovedSince: fresh)
        #expect(shared.contains("q"))
        // A logout forgets at once.
        shared.remove("q")
        #expect(!shared.contains("q"))
    }

    @Test func aDeclaredQueueIsTrustedAtOnce() {
        let shared = SharedRecentQueues(lifetime: .seconds(60))
        shared.insert("q")
        #expect(shared.contains("q"))
        let none = SharedRecentQueues(lifetime: .zero)
        none.insert("q")
        #expect(!none.contains("q"), "a memory of zero asks for every post")
    }
}
