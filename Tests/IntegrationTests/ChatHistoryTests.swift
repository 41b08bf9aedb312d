import AMQPClient
import Foundation
import NIOConcurrencyHelpers
import Testing
import WarrenCore
import WarrenServices
import WarrenStore

/// The history role on a real broker with a SQLite store in a temporary file.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatHistoryTests {
    @Test func everyRoomEventIsStoredOnce() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(environment: ["WARREN_HISTORY_BATCH": "7"]) { chat in
                let recording = RecordingEventStore(store.events)
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                try await chat.start(chat.reverser())
                try await chat.startHistory(store: recording)
                let alice = try await chat.tab("alice")
                for index in 0..<30 { try await alice.post("post \(index)") }
                // 30 posts, 30 replies and alice's presence.
                try await watcher.wait("every post and reply", within: 15) { $0.count >= 61 }
                let routed = Set(watcher.all.map(\.id))
                #expect(routed.count == 61)
                try await eventually("the store to hold every event") { try await store.events.count() >= routed.count }
                #expect(try await store.events.count() == routed.count)
                #expect(Set(try await store.events.latest(limit: 200).map(\.id)) == routed)
                // Each event was new in exactly one write, and no write held more than a batch.
                let inserts = recording.inserts
                #expect(inserts.map(\.new).reduce(0, +) == routed.count)
                #expect(inserts.allSatisfy { $0.ids.count <= 7 })
                #expect(try await chat.messageCount(chat.topology.history) == 0)
            }
        }
    }

    /// The writer commits a batch and is killed before acknowledging it: the standby takes over,
    /// gets the batch again, writes nothing twice and loses nothing.
    @Test func killingTheWriterMidBatchLosesNothingAndDuplicatesNothing() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(environment: ["WARREN_HISTORY_BATCH": "5"]) { chat in
                let recording = RecordingEventStore(store.events)
                let committed = NIOLockedValueBox<[String]?>(nil)
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                let first = try await chat.startHistory(store: recording) { events in
                    // Hold the first committed batch unacknowledged until the role is killed.
                    committed.withLockedValue { $0 = $0 ?? events.map(\.id) }
                    try await Task.sleep(for: .seconds(60))
                }
                let alice = try await chat.tab("alice")
                try await eventually("the first batch to be committed") { committed.withLockedValue { $0 } != nil }
                // The standby: x-single-active-consumer gives it nothing while the first one lives.
                try await chat.startHistory(store: recording)
                for index in 0..<20 { try await alice.post("post \(index)") }
                try await watcher.wait("every post", within: 15) { $0.count >= 21 }
                try await first.close()

                let routed = Set(watcher.all.map(\.id))
                try await eventually("the standby to store every event") { try await store.events.count() >= routed.count }
                #expect(try await store.events.count() == routed.count)
                #expect(Set(try await store.events.latest(limit: 200).map(\.id)) == routed)
                let held = try #require(committed.withLockedValue { $0 })
                let inserts = recording.inserts
                // The held batch was written again by the standby, adding nothing.
                let rewrites = inserts.dropFirst().filter { !Set($0.ids).isDisjoint(with: held) }
                #expect(!rewrites.isEmpty, "the held batch was not delivered again")
                #expect(inserts.map(\.new).reduce(0, +) == routed.count)
                try await eventually("the history queue to drain") { try await chat.messageCount(chat.topology.history) == 0 }
            }
        }
    }

    /// Posts keep coming while a tab signs in: its backfill and its live events together hold
    /// every event from the first it got, none missing; overlaps are the same event twice at most.
    @Test func backfillAndLiveEventsMeetWithNoGap() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 60) { chat in
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)
                let bob = try await chat.tab("bob")
                let early = 20
                for index in 0..<early { try await bob.post("early \(index)") }
                try await watcher.wait("the early posts") { $0.filter { $0.kind == .message }.count >= early }

                let total = 200
                let posting = Task {
                    for index in early..<total {
                        try await bob.post("post \(index)")
                        // A steady stream rather than a burst, slow enough that the 50 events of
                        // the backfill (taken when the barrier is reached, a little after the tab's
                        // queue is bound) span ~1.25 s and so reach back past the moment the tab
                        // asked to sign in. At 3 ms a quiet machine posted more than 50 events
                        // between the two and the backfill held only events the tab also got live.
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                // Sign in while the stream is flowing.
                try await watcher.wait("the stream to start") { $0.filter { $0.kind == .message }.count >= early + 30 }
                let beforeLogin = Set(watcher.all.map(\.id))
                let alice = try await chat.tab("alice")
                try await posting.value
                try await watcher.wait("every post", within: 30) { $0.filter { $0.kind == .message }.count >= total }

                let routed = watcher.all.map(\.id).sorted()
                try await alice.events.wait("alice to have every event from her first", within: 30) { events in
                    guard let first = events.map(\.id).min() else { return false }
                    return Set(routed.filter { $0 >= first }).isSubset(of: Set(events.map(\.id)))
                }
                let seen = alice.events.all.map(\.id)
                let first = try #require(seen.min())
                let expected = routed.filter { $0 >= first }
                // After dropping repeats by id: exactly the room's events from her first one.
                #expect(Set(seen).sorted() == expected)
                var copies: [String: Int] = [:]
                for id in seen { copies[id, default: 0] += 1 }
                #expect(copies.values.allSatisfy { $0 <= 2 }, "an event came more than twice")
                // The backfill reached back before her queue existed: she has events routed
                // before she even asked to sign in, which only the backfill can bring.
                #expect(!beforeLogin.isDisjoint(with: seen), "no backfill")
            }
        }
    }

    @Test func historyRequestsAnswerLatestBeforeAndSearch() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)
                let alice = try await chat.tab("alice")
                for index in 0..<10 { try await alice.post(index % 2 == 0 ? "apple \(index)" : "banana \(index)") }
                try await watcher.wait("the posts") { $0.filter { $0.kind == .message }.count >= 10 }
                let posts = watcher.all.filter { $0.kind == .message }.sorted { $0.id < $1.id }

                // latest goes through the barrier, so it holds every post routed before it.
                let latest = try await chat.historyCall(HistoryRequest(.latest, limit: 5))
                #expect(latest.ok)
                #expect(latest.events?.map(\.text) == posts.suffix(5).map(\.text))

                let before = try await chat.historyCall(HistoryRequest(.before(posts[5].id), limit: 3))
                #expect(before.events?.map(\.id) == posts[2..<5].map(\.id))

                let search = try await chat.historyCall(HistoryRequest(.search("banana"), limit: 3))
                #expect(search.events?.map(\.text) == ["banana 9", "banana 7", "banana 5"])

                let refused = try await chat.historyCall(HistoryRequest(.latest, limit: 500))
                #expect(!refused.ok)
                #expect(refused.code == Refusal.Code.historyLimitInvalid.rawValue)
                let badID = try await chat.historyCall(HistoryRequest(.before("nope"), limit: 3))
                #expect(badID.code == Refusal.Code.historyIDInvalid.rawValue)
            }
        }
    }

    @Test func whatIsNotARoomEventIsDeadLettered() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with { chat in
                try await chat.startHistory(store: store.events)
                try await eventually("the history queue") { try await chat.messageCount(chat.topology.history) != nil }
                try await chat.publishRaw("{not json", to: chat.topology.history)
                try await chat.publishRaw(#"{"id":"x"}"#, to: chat.topology.history)
                try await chat.waitForMessages(chat.topology.dead, count: 2)
                #expect(try await chat.messageCount(chat.topology.dead) == 2)
                #expect(try await store.events.count() == 0)
            }
        }
    }

    @Test func withHistoryOffOrAbsentALoginGetsNoBackfillAndSucceeds() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(environment: ["WARREN_HISTORY": "none"]) { chat in
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)
                let bob = try await chat.tab("bob")
                try await bob.post("before alice")
                try await eventually("the post to be stored") { try await store.events.count() >= 2 }
                let alice = try await chat.tab("alice")
                try await bob.post("after alice")
                try await alice.events.first("the post after") { $0.text == "after alice" }
                #expect(!alice.events.all.contains { $0.text == "before alice" || $0.text == "bob joined" })
            }
        }
        // No history role at all: the login does not wait for one.
        try await ChatHarness.with { chat in
            try await chat.start(chat.login())
            let alice = try await chat.tab("alice")
            try await alice.post("hello")
            try await alice.events.first("the post") { $0.text == "hello" }
        }
    }
}
