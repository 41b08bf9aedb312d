import Testing
import WarrenCore

@testable import WarrenServices

struct PresenceBatcherTests {
    typealias A = PresenceBatcher.Announcement

    @Test func peopleComingOneByOneAreAnnouncedAtOnce() {
        var batcher = PresenceBatcher(window: .milliseconds(250))
        #expect(batcher.changed(.joined, "alice", now: .seconds(1)) == [A(change: .joined, names: ["alice"])])
        #expect(batcher.due(now: .seconds(2)) == [])
        #expect(batcher.changed(.joined, "bob", now: .seconds(3)) == [A(change: .joined, names: ["bob"])])
        #expect(batcher.changed(.left, "alice", now: .seconds(4)) == [A(change: .left, names: ["alice"])])
    }

    @Test func aStormIsGatheredIntoOneEventPerWindow() {
        var batcher = PresenceBatcher(window: .milliseconds(250))
        #expect(batcher.changed(.joined, "u0", now: .zero).count == 1)
        for index in 1...40 {
            #expect(batcher.changed(.joined, "u\(index)", now: .milliseconds(index)) == [])
        }
        #expect(batcher.changed(.joined, "u3", now: .milliseconds(50)) == [])  // a second tab: once
        #expect(batcher.due(now: .milliseconds(249)) == [])
        let due = batcher.due(now: .milliseconds(250))
        #expect(due == [A(change: .joined, names: (1...40).map { "u\($0)" })])
        #expect(due.first?.text == "u1, u2, u3 and 37 others joined")
        // Still stormy: the next change waits for the next window.
        #expect(batcher.changed(.left, "u7", now: .milliseconds(300)) == [])
        #expect(batcher.due(now: .milliseconds(500)) == [A(change: .left, names: ["u7"])])
        #expect(batcher.due(now: .milliseconds(750)) == [])
        #expect(batcher.changed(.joined, "late", now: .seconds(1)) == [A(change: .joined, names: ["late"])])
    }

    @Test func ofOnlineAndOfflineTheLatestForAPersonWinsWithinAWindow() {
        var batcher = PresenceBatcher(window: .milliseconds(250))
        let first = batcher.changed(.offline, "alice", now: .zero)
        #expect(first == [A(change: .offline, names: ["alice"])])
        #expect(first.first?.text == "alice went offline")
        #expect(first.first?.change.kind == .online)
        // A reload: gone, back, gone and back within one window: one event, the last state.
        #expect(batcher.changed(.online, "alice", now: .milliseconds(10)) == [])
        #expect(batcher.changed(.offline, "bob", now: .milliseconds(20)) == [])
        #expect(batcher.changed(.offline, "alice", now: .milliseconds(30)) == [])
        #expect(batcher.changed(.online, "alice", now: .milliseconds(40)) == [])
        #expect(batcher.changed(.joined, "carol", now: .milliseconds(50)) == [])
        let due = batcher.due(now: .milliseconds(250))
        #expect(due == [A(change: .joined, names: ["carol"]), A(change: .online, names: ["alice"]), A(change: .offline, names: ["bob"])])
        #expect(due.map(\.text) == ["carol joined", "alice came online", "bob went offline"])
        #expect(due.map(\.change.kind) == [.presence, .online, .online])
    }

    @Test func aFullBatchGoesOutBeforeTheWindowEnds() {
        var batcher = PresenceBatcher(window: .seconds(1), maxNames: 3)
        _ = batcher.changed(.joined, "a", now: .zero)
        #expect(batcher.changed(.joined, "b", now: .milliseconds(1)) == [])
        #expect(batcher.changed(.joined, "c", now: .milliseconds(2)) == [])
        #expect(batcher.changed(.joined, "d", now: .milliseconds(3)) == [A(change: .joined, names: ["b", "c", "d"])])
        #expect(batcher.isEmpty)
    }

    @Test func theWindowGrowsWithTheAudience() {
        var batcher = PresenceBatcher(window: .milliseconds(250), deliveriesPerSecond: 2_000)
        #expect(batcher.window(audience: 0) == .milliseconds(250))
        #expect(batcher.window(audience: 200) == .milliseconds(250))
        #expect(batcher.window(audience: 1_000) == .milliseconds(500))
        #expect(batcher.window(audience: 5_000) == .milliseconds(2_500))
        // 5,000 tabs in: after the first announcement, the next comes 2.5 s later, not 250 ms.
        #expect(batcher.changed(.joined, "u0", now: .zero, audience: 5_000).count == 1)
        #expect(batcher.changed(.joined, "u1", now: .milliseconds(10), audience: 5_000) == [])
        #expect(batcher.due(now: .milliseconds(250), audience: 5_000) == [])
        #expect(batcher.due(now: .milliseconds(2_500), audience: 5_000) == [A(change: .joined, names: ["u1"])])
        // One event per window, to every tab: at most 2,000 deliveries a second.
        #expect(batcher.changed(.joined, "u2", now: .milliseconds(2_600), audience: 5_000) == [])
        #expect(batcher.due(now: .milliseconds(4_999), audience: 5_000) == [])
        #expect(batcher.due(now: .milliseconds(5_000), audience: 5_000) == [A(change: .joined, names: ["u2"])])
    }

    @Test func texts() {
        #expect(A(change: .joined, names: ["alice"]).text == "alice joined")
        #expect(A(change: .left, names: ["alice", "bob"]).text == "alice and bob left")
        #expect(A(change: .joined, names: ["a", "b", "c"]).text == "a, b and c joined")
    }
}
