import Foundation
import Testing
import WarrenCore

@testable import WarrenStore

/// The event store's contract, run against every configured backend.
@Suite("EventStore on SQLite and PostgreSQL")
struct EventStoreTests {
    @Test("insert counts only new events; a repeated batch writes nothing", arguments: StoreTestEnvironment.backends)
    func insertCountsNewEvents(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events(["one", "two", "three", "four"])
            #expect(try await store.events.insert([]) == 0)
            #expect(try await store.events.insert(Array(events.prefix(3))) == 3)
            #expect(try await store.events.insert(Array(events.prefix(3))) == 0)
            #expect(try await store.events.insert(events) == 1)
            #expect(try await store.events.insert([events[0], events[0]]) == 0)
            #expect(try await store.events.count() == 4)
        }
    }

    @Test("a batch with the same id twice stores it once", arguments: StoreTestEnvironment.backends)
    func duplicateInsideBatch(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let event = Samples.events(["only"])[0]
            #expect(try await store.events.insert([event, event]) == 1)
            #expect(try await store.events.latest(limit: 10) == [event])
        }
    }

    @Test("a batch larger than one statement is written whole", arguments: StoreTestEnvironment.backends)
    func largeBatch(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events((0..<1_234).map { "message number \($0)" })
            #expect(try await store.events.insert(events.shuffled()) == 1_234)
            #expect(try await store.events.count() == 1_234)
            #expect(try await store.events.latest(limit: 3) == Array(events.suffix(3)))
        }
    }

    @Test("latest and before: oldest first, bounded, ids as bounds", arguments: StoreTestEnvironment.backends)
    func latestAndBefore(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            #expect(try await store.events.latest(limit: 5) == [])
            let events = Samples.events((0..<10).map { "event \($0)" })
            try await store.events.insert(events.shuffled())

            #expect(try await store.events.latest(limit: 3) == Array(events[7...9]))
            #expect(try await store.events.latest(limit: 100) == events)
            #expect(try await store.events.latest(limit: 0) == [])
            #expect(try await store.events.latest(limit: -1) == [])

            #expect(try await store.events.before(id: events[5].id, limit: 2) == Array(events[3...4]))
            #expect(try await store.events.before(id: events[2].id, limit: 50) == Array(events[0...1]))
            #expect(try await store.events.before(id: events[0].id, limit: 50) == [])
            #expect(try await store.events.before(id: events[5].id, limit: 0) == [])
            // An id that is not stored still bounds: "7ZZ…" is after every id, "0" before.
            #expect(try await store.events.before(id: "7" + String(repeating: "Z", count: 25), limit: 2) == Array(events[8...9]))
            #expect(try await store.events.before(id: "0", limit: 5) == [])
            let between = String(events[4].id.dropLast()) + "~"
            #expect(try await store.events.before(id: between, limit: 1) == [events[4]])
        }
    }

    @Test("an event comes back exactly as written, optional fields and all", arguments: StoreTestEnvironment.backends)
    func roundTrip(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let ids = Samples.events(["a", "b", "c", "d"]).map(\.id)
            let proof = Proof(
                bits: 20, challenge: "challenge", nonce: "12345678901234567890", hash: String(repeating: "0", count: 64),
                elapsedMs: 12, hashesPerSecond: 1_000_000, via: .rpc)
            let events = [
                RoomEvent(id: ids[0], kind: .proof, from: "bob", text: "work !rpc", at: Samples.start, proof: proof, clientId: "c1"),
                RoomEvent(id: ids[1], kind: .reply, from: "reverser", text: "cpr! krow", at: Samples.start.addingTimeInterval(0.001), inReplyTo: ids[0]),
                RoomEvent(id: ids[2], kind: .error, from: "login", text: "too long", at: Samples.start.addingTimeInterval(0.999), code: "text.tooLong"),
                // Posts cannot hold NUL, but another producer's event might: stored whole all the same.
                RoomEvent(id: ids[3], kind: .system, from: "cr\u{0}on", text: "nul \u{0} inside", at: Samples.start.addingTimeInterval(2)),
            ]
            #expect(try await store.events.insert(events) == 4)
            #expect(try await store.events.latest(limit: 4) == events)
            #expect(try await store.events.search("inside", limit: 4) == [events[3]])
        }
    }

    @Test("unicode text is stored and found", arguments: StoreTestEnvironment.backends)
    func unicode(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events(["Grüße aus Köln 🎉", "日本語 テキスト", "café crème", "emoji only 👩‍👩‍👧‍👦"])
            try await store.events.insert(events)
            #expect(try await store.events.latest(limit: 10) == events)
            #expect(try await store.events.search("Köln", limit: 10) == [events[0]])
            #expect(try await store.events.search("日本語", limit: 10) == [events[1]])
            #expect(try await store.events.search("crème café", limit: 10) == [events[2]])
            #expect(try await store.events.search("🎉", limit: 10) == [])
        }
    }

    @Test("search finds every word in any order, newest first", arguments: StoreTestEnvironment.backends)
    func searchWords(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events([
                "the quick brown fox", "brown dogs sleep", "Quick thinking wins", "this OR that", "nothing here",
            ])
            try await store.events.insert(events)
            #expect(try await store.events.search("fox quick", limit: 10) == [events[0]])
            #expect(try await store.events.search("QUICK", limit: 10) == [events[2], events[0]])
            #expect(try await store.events.search("brown", limit: 10) == [events[1], events[0]])
            #expect(try await store.events.search("brown", limit: 1) == [events[1]])
            #expect(try await store.events.search("brown", limit: 0) == [])
            #expect(try await store.events.search("absent", limit: 10) == [])
            #expect(try await store.events.search("fox absent", limit: 10) == [])
        }
    }

    @Test("search text is never query syntax", arguments: StoreTestEnvironment.backends)
    func searchIsPlainText(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events(["the quick brown fox", "brown dogs sleep", "this OR that", "quickly"])
            try await store.events.insert(events)
            // Operators are words or separators, never operators.
            #expect(try await store.events.search("OR", limit: 10) == [events[2]])
            #expect(try await store.events.search("quick OR dogs", limit: 10) == [])
            #expect(try await store.events.search("-brown", limit: 10) == [events[1], events[0]])
            #expect(try await store.events.search("brown -dogs", limit: 10) == [events[1]])
            #expect(try await store.events.search("quick*", limit: 10) == [events[0]])
            #expect(try await store.events.search("\"quick brown\"", limit: 10) == [events[0]])
            #expect(try await store.events.search("fox\" OR \"dogs", limit: 10) == [])
            #expect(try await store.events.search("NEAR(quick fox)", limit: 10) == [])
            #expect(try await store.events.search("(quick fox)", limit: 10) == [events[0]])
            #expect(try await store.events.search("text:fox", limit: 10) == [])
            #expect(try await store.events.search("fox & !dogs | sleep <-> x", limit: 10) == [])
            for nothing in ["", "   ", "\"", "\"\"", "*", "-", "()", "^", "'", ":", "&|!<>"] {
                #expect(try await store.events.search(nothing, limit: 10) == [], "query \(nothing)")
            }
            #expect(try await store.events.search("'; DROP TABLE events; --", limit: 10) == [])
            #expect(try await store.events.count() == 4)
        }
    }

    @Test("many concurrent writers and readers", arguments: StoreTestEnvironment.backends)
    func concurrentWriters(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let events = Samples.events((0..<400).map { "concurrent \($0)" })
            let batches = stride(from: 0, to: events.count, by: 25).map { Array(events[$0..<min($0 + 25, events.count)]) }
            // Every batch twice, at once: each event is new exactly once.
            let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
                for batch in batches + batches {
                    group.addTask { try await store.events.insert(batch) }
                    group.addTask { _ = try await store.events.latest(limit: 50); return 0 }
                }
                return try await group.reduce(0, +)
            }
            #expect(inserted == events.count)
            #expect(try await store.events.latest(limit: 1_000) == events)
        }
    }
}
