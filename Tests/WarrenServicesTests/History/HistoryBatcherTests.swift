import Foundation
import Testing
import WarrenCore
import WarrenServices

@Suite struct HistoryBatcherTests {
    let start = ContinuousClock.now
    let ids = EventIDGenerator()

    func event(_ text: String = "hi") -> RoomEvent {
        RoomEvent(id: self.ids.nextString(), kind: .message, from: "alice", text: text, at: Date())
    }

    @Test func aFullBatchIsWrittenAtOnceAndAcknowledgedOnlyAfterTheWrite() {
        var batcher = HistoryBatcher(batchSize: 3, flushInterval: .milliseconds(200))
        let events = (0..<3).map { _ in self.event() }
        #expect(batcher.received(tag: 1, event: events[0], now: start) == [.scheduleFlush(at: start + .milliseconds(200))])
        #expect(batcher.received(tag: 2, event: events[1], now: start).isEmpty)
        #expect(batcher.received(tag: 3, event: events[2], now: start) == [.write(events)])
        #expect(batcher.isWriting)
        #expect(batcher.writeSucceeded() == [.ack(upTo: 3)])
        #expect(!batcher.isWriting)
        // The flush time of the written batch finds nothing to do.
        #expect(batcher.timerFired(now: start + .milliseconds(200)).isEmpty)
    }

    @Test func aPartialBatchWaitsForItsFlushTime() {
        var batcher = HistoryBatcher(batchSize: 200, flushInterval: .milliseconds(200))
        let first = self.event()
        let second = self.event()
        _ = batcher.received(tag: 1, event: first, now: start)
        _ = batcher.received(tag: 2, event: second, now: start + .milliseconds(150))
        // Early: ask again at the due time.
        #expect(batcher.timerFired(now: start + .milliseconds(100)) == [.scheduleFlush(at: start + .milliseconds(200))])
        #expect(batcher.timerFired(now: start + .milliseconds(200)) == [.write([first, second])])
        #expect(batcher.writeSucceeded() == [.ack(upTo: 2)])
        // The next event starts a new wait from its own arrival.
        let third = self.event()
        #expect(batcher.received(tag: 3, event: third, now: start + .milliseconds(500)) == [.scheduleFlush(at: start + .milliseconds(700))])
    }

    @Test func aFailedWriteAcknowledgesNothingAndRequeuesEverythingWithAGrowingBoundedBackoff() {
        var batcher = HistoryBatcher(batchSize: 2, flushInterval: .milliseconds(200), initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(350))
        let events = (0..<2).map { _ in self.event() }
        var delays: [Duration] = []
        for round in 0..<4 {
            let base = UInt64(round * 2)
            _ = batcher.received(tag: base + 1, event: events[0], now: start)
            #expect(batcher.received(tag: base + 2, event: events[1], now: start) == [.write(events)])
            let actions = batcher.writeFailed()
            guard case .requeue(let tag, let delay)? = actions.first, actions.count == 1 else {
                Issue.record("expected one requeue, got \(actions)")
                return
            }
            #expect(tag == base + 2)
            delays.append(delay)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350)])
        #expect(batcher.failuresInARow == 4)
        _ = batcher.received(tag: 9, event: events[0], now: start)
        _ = batcher.received(tag: 10, event: events[1], now: start)
        #expect(batcher.writeSucceeded() == [.ack(upTo: 10)])
        #expect(batcher.failuresInARow == 0)
    }

    @Test func aBarrierWithNothingWaitingIsAnsweredAtOnce() {
        var batcher = HistoryBatcher(batchSize: 10, flushInterval: .milliseconds(200))
        #expect(batcher.barrierReceived(tag: 1) == [.answerBarrier(tag: 1)])
    }

    @Test func aBarrierHasTheEventsBeforeItWrittenFirst() {
        var batcher = HistoryBatcher(batchSize: 2, flushInterval: .milliseconds(200))
        let events = (0..<3).map { _ in self.event() }
        _ = batcher.received(tag: 1, event: events[0], now: start)
        #expect(batcher.received(tag: 2, event: events[1], now: start) == [.write(Array(events[0..<2]))])
        // The barrier arrives behind a third event while the first batch is out.
        _ = batcher.received(tag: 3, event: events[2], now: start)
        #expect(batcher.barrierReceived(tag: 4).isEmpty)
        #expect(batcher.writeSucceeded() == [.ack(upTo: 2), .write([events[2]])])
        #expect(batcher.writeSucceeded() == [.ack(upTo: 3), .answerBarrier(tag: 4)])
    }

    @Test func aBarrierBehindAFailedWriteIsRequeuedWithIt() {
        var batcher = HistoryBatcher(batchSize: 10, flushInterval: .milliseconds(200))
        let event = self.event()
        _ = batcher.received(tag: 1, event: event, now: start)
        #expect(batcher.barrierReceived(tag: 2) == [.write([event])])
        #expect(batcher.writeFailed() == [.requeue(upTo: 2, after: .milliseconds(100))])
        // Redelivered: the barrier waits again, and is answered after the write.
        _ = batcher.received(tag: 3, event: event, now: start)
        #expect(batcher.barrierReceived(tag: 4) == [.write([event])])
        #expect(batcher.writeSucceeded() == [.ack(upTo: 3), .answerBarrier(tag: 4)])
    }

    @Test func somethingElseIsDeadLetteredAndTheBatchGoesOn() {
        var batcher = HistoryBatcher(batchSize: 2, flushInterval: .milliseconds(200))
        let events = (0..<2).map { _ in self.event() }
        _ = batcher.received(tag: 1, event: events[0], now: start)
        #expect(batcher.malformedReceived(tag: 2, reason: "not json") == [.deadLetter(tag: 2, reason: "not json")])
        #expect(batcher.received(tag: 3, event: events[1], now: start) == [.write(events)])
        #expect(batcher.writeSucceeded() == [.ack(upTo: 3)])
    }

    @Test func finishingWritesWhatWaits() {
        var batcher = HistoryBatcher(batchSize: 10, flushInterval: .milliseconds(200))
        #expect(batcher.finishing().isEmpty)
        let event = self.event()
        _ = batcher.received(tag: 1, event: event, now: start)
        #expect(batcher.finishing() == [.write([event])])
    }

    /// The batcher against a simulated queue and a store that fails now and then: in the end
    /// every event is stored once, every delivery is settled, and nothing was acknowledged
    /// before its write.
    @Test(arguments: [1, 7, 50])
    func nothingIsLostOrStoredTwiceWhenWritesFail(batchSize: Int) async throws {
        let store = InMemoryEventStore()
        let events = (0..<120).map { self.event("e\($0)") }
        var queue = events[...]  // ready messages, in order
        var unacked: [UInt64: RoomEvent] = [:]
        var nextTag: UInt64 = 1
        var now = start
        var batcher = HistoryBatcher(batchSize: batchSize, flushInterval: .milliseconds(200))
        var pendingFlush: ContinuousClock.Instant?
        var writes = 0
        var rounds = 0

        func run(_ actions: [HistoryBatcher.Action]) async throws {
            var todo = actions[...]
            while let action = todo.popFirst() {
                switch action {
                case .write(let batch):
                    writes += 1
                    // Every third write fails.
                    if writes % 3 == 0 { store.failNext(1) }
                    do {
                        _ = try await store.insert(batch)
                        todo.append(contentsOf: batcher.writeSucceeded())
                    } catch {
                        todo.append(contentsOf: batcher.writeFailed())
                    }
                case .ack(let tag):
                    let stored = try await store.latest(limit: 1_000).map(\.id)
                    for (key, event) in unacked where key <= tag {
                        #expect(stored.contains(event.id), "acknowledged before it was stored")
                        unacked[key] = nil
                    }
                case .requeue(let tag, let delay):
                    now += delay
                    let back = unacked.filter { $0.key <= tag }.sorted { $0.key < $1.key }
                    for (key, _) in back { unacked[key] = nil }
                    queue = (back.map(\.value) + queue)[...]
                case .scheduleFlush(let instant):
                    pendingFlush = pendingFlush.map { min($0, instant) } ?? instant
                case .deadLetter, .answerBarrier:
                    Issue.record("unexpected \(action)")
                }
            }
        }

        while rounds < 10_000, !(queue.isEmpty && unacked.isEmpty) {
            rounds += 1
            if let event = queue.popFirst() {
                unacked[nextTag] = event
                now += .milliseconds(3)
                try await run(batcher.received(tag: nextTag, event: event, now: now))
                nextTag += 1
            } else if let due = pendingFlush {
                pendingFlush = nil
                now = max(now, due)
                try await run(batcher.timerFired(now: now))
            } else {
                try await run(batcher.finishing())
            }
        }
        #expect(queue.isEmpty && unacked.isEmpty, "not settled after \(rounds) rounds")
        #expect(try await store.count() == events.count)
        #expect(Set(try await store.latest(limit: 1_000).map(\.id)) == Set(events.map(\.id)))
        #expect(store.inserts.allSatisfy { $0.count <= batchSize })
        #expect(writes > events.count / batchSize, "some writes failed and were retried")
    }
}
