import Foundation
import Testing
@testable import WarrenCore

@Suite("Room event JSON")
struct EventTests {
    /// Parses JSON into a dictionary to compare key sets and values.
    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    let at = Date(timeIntervalSince1970: 1_795_432_800.123)  // 2026-11-23T11:20:00.123Z

    @Test("a literal message event decodes")
    func decodeMessage() throws {
        let json = #"""
            {"id": "01JF8Q9X3M4N5P6Q7R8S9T0V1W", "kind": "message", "from": "alice",
             "text": "hello", "at": "2026-11-23T11:20:00.123Z", "clientId": "c-1"}
            """#
        let event = try RoomEvent.decode(json)
        #expect(event.id == "01JF8Q9X3M4N5P6Q7R8S9T0V1W")
        #expect(event.kind == .message)
        #expect(event.from == "alice")
        #expect(event.text == "hello")
        #expect(Timestamp.format(event.at) == "2026-11-23T11:20:00.123Z")
        #expect(event.clientId == "c-1")
        #expect(event.inReplyTo == nil)
        #expect(event.proof == nil)
    }

    @Test("a literal proof event decodes with its proof")
    func decodeProof() throws {
        let json = #"""
            {"id":"01JF8Q9X3M4N5P6Q7R8S9T0V1W","kind":"proof","from":"bob","text":"work","at":"2026-11-23T11:20:00.000Z",
             "proof":{"bits":24,"challenge":"warren-pow:v1:ab12","nonce":"12345678901234567890",
             "hash":"000000ab","elapsedMs":812,"hashesPerSecond":20654000,"via":"rpc"}}
            """#
        let event = try RoomEvent.decode(json)
        let proof = try #require(event.proof)
        #expect(proof.bits == 24)
        #expect(proof.nonce == "12345678901234567890")
        #expect(proof.via == .rpc)
        #expect(proof.elapsedMs == 812)
        #expect(proof.hashesPerSecond == 20_654_000)
    }

    @Test("a message encodes with exactly the required keys; absent optionals are left out")
    func encodeMessageKeys() throws {
        let event = RoomEvent(id: "01JF8Q9X3M4N5P6Q7R8S9T0V1W", kind: .message, from: "alice", text: "hi", at: at)
        let object = try object(event.encode())
        #expect(Set(object.keys) == ["id", "kind", "from", "text", "at"])
        #expect(object["kind"] as? String == "message")
        #expect(object["at"] as? String == "2026-11-23T11:20:00.123Z")
    }

    @Test("a reply carries inReplyTo")
    func encodeReply() throws {
        let event = RoomEvent(id: "B", kind: .reply, from: "reverser", text: "ih", at: at, inReplyTo: "A")
        let object = try object(event.encode())
        #expect(Set(object.keys) == ["id", "kind", "from", "text", "at", "inReplyTo"])
        #expect(object["inReplyTo"] as? String == "A")
    }

    @Test("a proven job becomes a proof event with every proof key")
    func encodeProof() throws {
        let job = PowJob(id: "A", from: "bob", text: "work", at: at, clientId: "c-1", via: .queue, bits: 20, challenge: "warren-pow:v1:ab12")
        let proof = Proof(bits: 20, challenge: job.challenge, nonce: "42", hash: "00000f", elapsedMs: 5, hashesPerSecond: 1_000, via: .queue)
        let event = RoomEvent.proven(job, proof: proof)
        let object = try object(event.encode())
        #expect(Set(object.keys) == ["id", "kind", "from", "text", "at", "proof", "clientId"])
        #expect(object["kind"] as? String == "proof")
        let proofObject = try #require(object["proof"] as? [String: Any])
        #expect(Set(proofObject.keys) == ["bits", "challenge", "nonce", "hash", "elapsedMs", "hashesPerSecond", "via"])
        #expect(proofObject["nonce"] as? String == "42")
        #expect(proofObject["via"] as? String == "queue")
        #expect(proofObject["challenge"] as? String == "warren-pow:v1:ab12")
    }

    @Test("an error event carries the refusal's code")
    func encodeError() throws {
        let refusal = Refusal(.textTooLong, "too long")
        let event = RoomEvent.refusal(refusal, id: "E", from: "warren", at: at, clientId: "c-9")
        let object = try object(event.encode())
        #expect(object["kind"] as? String == "error")
        #expect(object["code"] as? String == "text.tooLong")
        #expect(object["text"] as? String == "too long")
    }

    @Test("encoding is stable: sorted keys, unescaped slashes, same bytes every time")
    func stableEncoding() {
        let event = RoomEvent(id: "A", kind: .system, from: "cron", text: "a/b", at: at)
        let text = event.encodedString()
        #expect(text == #"{"at":"2026-11-23T11:20:00.123Z","from":"cron","id":"A","kind":"system","text":"a/b"}"#)
        #expect(event.encode() == event.encode())
    }

    @Test("events round-trip", arguments: EventKind.allCases)
    func roundTrip(kind: EventKind) throws {
        let event = RoomEvent(id: "A", kind: kind, from: "x", text: "héllo 👋🏽\n\"quoted\"", at: at, inReplyTo: "B", clientId: "c")
        #expect(try RoomEvent.decode(event.encode()) == event)
    }

    @Test("an event made now equals itself after a JSON round trip")
    func roundTripNow() throws {
        let event = RoomEvent(id: "A", kind: .message, from: "x", text: "t", at: Date())
        #expect(try RoomEvent.decode(event.encode()) == event)
        let job = PowJob(id: "A", from: "x", text: "t", at: Date(), clientId: nil, via: .queue, bits: 1, challenge: "c")
        #expect(try PowJob.decode(job.encode()) == job)
    }

    @Test("a proof's hash is checked against its bits", arguments: [
        (String(repeating: "0", count: 6) + String(repeating: "f", count: 58), 24, true),
        (String(repeating: "0", count: 6) + String(repeating: "f", count: 58), 25, false),
        ("00000" + "1" + String(repeating: "f", count: 58), 23, true),
        ("00000" + "1" + String(repeating: "f", count: 58), 24, false),
        ("0" + "7" + String(repeating: "a", count: 62), 5, true),
        ("0" + "7" + String(repeating: "a", count: 62), 6, false),
        (String(repeating: "0", count: 64), 64, true),
        (String(repeating: "0", count: 6) + String(repeating: "F", count: 58), 24, false),
        (String(repeating: "0", count: 6) + String(repeating: "g", count: 58), 24, false),
        ("000000", 24, false),
        (String(repeating: "0", count: 64), 0, false),
    ] as [(String, Int, Bool)])
    func hashDifficulty(hash: String, bits: Int, expected: Bool) {
        let proof = Proof(bits: bits, challenge: "c", nonce: "1", hash: hash, elapsedMs: 0, hashesPerSecond: 0, via: .queue)
        #expect(proof.hashMeetsDifficulty == expected)
    }

    @Test("bad kinds and times are refused as malformed")
    func badValues() {
        let badKind = #"{"id":"A","kind":"shout","from":"x","text":"t","at":"2026-11-23T11:20:00.123Z"}"#
        let badTime = #"{"id":"A","kind":"message","from":"x","text":"t","at":"yesterday"}"#
        for json in [badKind, badTime] {
            do {
                _ = try RoomEvent.decode(json)
                Issue.record("expected a refusal for \(json)")
            } catch {
                #expect(error.code == .malformedRequest)
            }
        }
        do {
            _ = try RoomEvent.decode(badTime)
        } catch {
            #expect(error.message.contains("\"at\""))
            #expect(error.message.contains("RFC 3339"))
        }
    }
}

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test("formats in UTC with exactly three fractional digits")
    func format() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_432_800.123)) == "2026-11-23T11:20:00.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_432_800.9999)) == "2026-11-23T11:20:00.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }

    @Test("every millisecond of a second survives a round trip")
    func millisecondRoundTrip() throws {
        for millis in 0..<1_000 {
            let text = "2026-11-23T11:20:00." + Timestamp.pad(millis, 3) + "Z"
            let date = try #require(Timestamp.parse(text))
            #expect(Timestamp.format(date) == text)
        }
    }

    @Test("parses offsets, other precisions and lowercase separators")
    func parseForms() {
        let base = Timestamp.parse("2026-11-23T11:20:00.000Z")
        #expect(base != nil)
        #expect(Timestamp.parse("2026-11-23T12:20:00+01:00") == base)
        #expect(Timestamp.parse("2026-11-23t06:50:00.000-04:30") == base)
        #expect(Timestamp.parse("2026-11-23T11:20:00Z") == base)
        #expect(Timestamp.parse("2026-11-23T11:20:00.5Z").map(Timestamp.format) == "2026-11-23T11:20:00.500Z")
        #expect(Timestamp.parse("2026-11-23T11:20:00.123456Z").map(Timestamp.format) == "2026-11-23T11:20:00.123Z")
    }

    @Test("refuses what is not RFC 3339", arguments: [
        "", "2026-11-23", "2026-11-23T11:20:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T11:20:00.Z", "2026-11-23T11:20:00Zjunk", "26-11-23T11:20:00Z",
    ])
    func parseRefusals(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
