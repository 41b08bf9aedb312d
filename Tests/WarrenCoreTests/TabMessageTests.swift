import Foundation
import Testing
import WarrenCore

struct TabMessageTests {
    let event = RoomEvent(id: "e1", kind: .message, from: "alice", text: "hi", at: Date(timeIntervalSince1970: 1_700_000_000))

    @Test func aBatchRoundTripsAndIsToldApartFromAnEvent() throws {
        let second = RoomEvent(id: "e2", kind: .reply, from: "reverser", text: "ih", at: Date(timeIntervalSince1970: 1_700_000_001))
        let batch = BackfillBatch(events: [event, second])
        #expect(batch.encodedString().contains("\"kind\":\"backfill\""))
        #expect(try TabMessage.decode(batch.encode()) == .backfill([event, second]))
        #expect(try TabMessage.decode(event.encode()) == .event(event))
        #expect(try TabMessage.decode(batch.encode()).events.map(\.id) == ["e1", "e2"])
    }

    @Test func somethingElseIsRefused() {
        #expect(throws: Refusal.self) { try TabMessage.decode(Array("{\"kind\":\"backfill\"}".utf8)) }
        #expect(throws: Refusal.self) { try TabMessage.decode(Array("[1,2]".utf8)) }
    }

    @Test func aLoginRequestSaysWhetherTheTabHadItsSessionBefore() throws {
        let session = String(repeating: "a", count: 22)
        let fresh = try LoginRequest.decode(Array("{\"action\":\"login\",\"login\":\"al\",\"session\":\"\(session)\",\"resume\":false}".utf8))
        #expect(fresh.resume == false)
        #expect(!fresh.mayExist)
        let old = try LoginRequest.decode(Array("{\"action\":\"login\",\"login\":\"al\",\"session\":\"\(session)\"}".utf8))
        #expect(old.resume == nil)
        #expect(old.mayExist)
        #expect(!LoginRequest(action: .login, login: "al", session: session).encodedString().contains("resume"))
    }
}

struct DeadlineTests {
    @Test func aResultInTimeIsReturned() async throws {
        #expect(try await withDeadline(.seconds(5), "a number") { 42 } == 42)
    }

    @Test func theBodysErrorIsThrown() async {
        await #expect(throws: TestError.self) { try await withDeadline(.seconds(5), "nothing") { throw TestError() } }
    }

    /// Even a body that ignores cancellation does not hold the caller past the limit. The body
    /// waits, as for a future, for something a thread of its own finishes 3 s later, and
    /// cancellation does not end that wait. (It must not block a thread of the cooperative pool
    /// itself: with two cores and tests running side by side, the deadline's timer would have
    /// no thread to run on until the body let go.)
    @Test func aBodyThatIgnoresCancellationDoesNotHoldTheCaller() async throws {
        let done = Done()
        let error = await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100), "a stubborn body") {
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    Thread {
                        Thread.sleep(forTimeInterval: 3)
                        done.mark()
                        finished.resume()
                    }.start()
                }
                return 1
            }
        }
        #expect(error?.what == "a stubborn body")
        #expect(!done.isMarked, "the caller waited for the body")
    }

    struct TestError: Error {}

    final class Done: @unchecked Sendable {
        private let lock = NSLock()
        private var marked = false
        func mark() { self.lock.withLock { self.marked = true } }
        var isMarked: Bool { self.lock.withLock { self.marked } }
    }
}
