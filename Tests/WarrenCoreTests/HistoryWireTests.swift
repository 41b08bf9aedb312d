import Foundation
import Testing
@testable import WarrenCore

@Suite("History requests and replies")
struct HistoryWireTests {
    let id = "01JF8Q9X3M4N5P6Q7R8S9T0V1W"

    @Test("the three ops decode and encode to the same stable JSON")
    func roundTrip() throws {
        let texts = [
            #"{"limit":50,"op":"latest"}"#,
            #"{"id":"01JF8Q9X3M4N5P6Q7R8S9T0V1W","limit":20,"op":"before"}"#,
            #"{"limit":10,"op":"search","q":"hello world"}"#,
        ]
        let expected: [HistoryRequest] = [
            HistoryRequest(.latest, limit: 50),
            HistoryRequest(.before(id), limit: 20),
            HistoryRequest(.search("hello world"), limit: 10),
        ]
        for (text, request) in zip(texts, expected) {
            let decoded = try HistoryRequest.decode(text)
            #expect(decoded == request)
            #expect(try decoded.validate() == request)
            #expect(request.encodedString() == text)
        }
    }

    @Test("an unknown op is refused, naming the allowed ones")
    func unknownOp() {
        #expect {
            try HistoryRequest.decode(#"{"limit":5,"op":"drop"}"#)
        } throws: { error in
            let refusal = error as? Refusal
            return refusal?.code == .malformedRequest && refusal!.message.contains("\"latest\", \"before\", \"search\"")
        }
    }

    @Test("missing fields are named")
    func missingFields() {
        for (text, field) in [(#"{"op":"latest"}"#, "limit"), (#"{"limit":5,"op":"before"}"#, "id"), (#"{"limit":5,"op":"search"}"#, "q")] {
            #expect {
                try HistoryRequest.decode(text)
            } throws: { error in
                (error as? Refusal)?.message.contains("\"\(field)\"") == true
            }
        }
    }

    @Test("limits outside 1...200 are refused", arguments: [0, -1, 201, 10_000])
    func badLimit(limit: Int) {
        #expect(throws: Refusal.self) { try HistoryRequest(.latest, limit: limit).validate() }
        do {
            try HistoryRequest(.latest, limit: limit).validate()
        } catch {
            #expect(error.code == .historyLimitInvalid)
            #expect(error.message.contains("1 to 200"))
        }
    }

    @Test("limits 1 and 200 are accepted")
    func limitBounds() throws {
        try HistoryRequest(.latest, limit: 1).validate()
        try HistoryRequest(.latest, limit: 200).validate()
    }

    @Test("a before id must be an event id", arguments: ["", "nope", "01jf8q9x3m4n5p6q7r8s9t0v1w", "81JF8Q9X3M4N5P6Q7R8S9T0V1W", "01JF8Q9X3M4N5P6Q7R8S9T0V1"])
    func badID(id: String) {
        do {
            try HistoryRequest(.before(id), limit: 5).validate()
            Issue.record("accepted \(id)")
        } catch {
            #expect(error.code == .historyIDInvalid)
        }
    }

    @Test("search text is trimmed and checked", arguments: [
        ("   ", false), ("\u{7}bell", false), ("line\nbreak", false),
        (String(repeating: "é", count: 201), false), (String(repeating: "é", count: 200), true), ("  hi  ", true),
    ])
    func searchText(text: String, valid: Bool) throws {
        let request = HistoryRequest(.search(text), limit: 5)
        if valid {
            let checked = try request.validate()
            guard case .search(let trimmed) = checked.query else { Issue.record("not a search"); return }
            #expect(trimmed == text.trimmingCharacters(in: .whitespaces))
        } else {
            do {
                try request.validate()
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.code == .historyQueryInvalid)
            }
        }
    }

    @Test("replies: events on success, error and code on failure")
    func replies() throws {
        let event = RoomEvent(id: id, kind: .message, from: "alice", text: "hi", at: Date(timeIntervalSince1970: 1_700_000_000))
        let success = HistoryReply.success([event])
        #expect(success.encodedString() == #"{"events":[{"at":"2023-11-14T22:13:20.000Z","from":"alice","id":"01JF8Q9X3M4N5P6Q7R8S9T0V1W","kind":"message","text":"hi"}],"ok":true}"#)
        #expect(try HistoryReply.decode(success.encode()) == success)
        let failure = HistoryReply.failure(Refusal(.historyLimitInvalid, "no"))
        #expect(failure.encodedString() == #"{"code":"history.limitInvalid","error":"no","ok":false}"#)
    }
}
