import Foundation
import Testing
@testable import WarrenCore

@Suite("Login and proof-of-work wire messages")
struct WireRequestTests {
    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("login requests decode and validate")
    func loginRequest() throws {
        let request = try LoginRequest.decode(#"{"action":"login","login":"alice","session":"q83vEjRWeJCrze8SNFZ4kA"}"#)
        #expect(request.action == .login)
        #expect(try request.validate() == request)
        let logout = try LoginRequest.decode(#"{"action":"logout","login":"alice","session":"q83vEjRWeJCrze8SNFZ4kA"}"#)
        #expect(logout.action == .logout)
    }

    @Test("an unknown action is refused, naming the allowed ones")
    func unknownAction() {
        do {
            _ = try LoginRequest.decode(#"{"action":"dance","login":"alice","session":"x"}"#)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .malformedRequest)
            #expect(error.message.contains("\"dance\" is not \"login\" or \"logout\""))
        }
    }

    @Test("a login request with a bad name is refused on validation")
    func badLogin() {
        let request = LoginRequest(action: .login, login: "a b", session: "q83vEjRWeJCrze8SNFZ4kA")
        #expect(throws: Refusal.self) { try request.validate() }
    }

    @Test("login replies: success names the queue, failure carries error and code")
    func loginReplies() throws {
        let success = LoginReply.success(queue: "chat.user.alice.S", login: "alice", session: "S")
        let successObject = try object(success.encode())
        #expect(Set(successObject.keys) == ["ok", "queue", "login", "session"])
        #expect(successObject["ok"] as? Bool == true)
        #expect(successObject["queue"] as? String == "chat.user.alice.S")

        let failure = LoginReply.failure(Refusal(.loginTooLong, "too long"))
        #expect(failure.encodedString() == #"{"code":"login.tooLong","error":"too long","ok":false}"#)
        #expect(try LoginReply.decode(failure.encode()) == failure)
    }

    @Test("a PoW job carries the post and its challenge, and round-trips")
    func powJob() throws {
        let at = Date(timeIntervalSince1970: 1_795_432_800.5)
        let event = RoomEvent(id: "01JF8Q9X3M4N5P6Q7R8S9T0V1W", kind: .message, from: "bob", text: "prove me", at: at, clientId: "c-2")
        let job = PowJob(event: event, via: .rpc, bits: 24, challenge: "warren-pow:v1:cafe")
        #expect(job.challenge == "warren-pow:v1:cafe")
        let object = try object(job.encode())
        #expect(Set(object.keys) == ["id", "from", "text", "at", "clientId", "via", "bits", "challenge"])
        #expect(object["at"] as? String == "2026-11-23T11:20:00.500Z")
        #expect(object["via"] as? String == "rpc")
        #expect(try PowJob.decode(job.encode()) == job)
    }

    @Test("a PoW job with bits out of range is refused")
    func powJobBits() {
        let json = #"{"id":"A","from":"b","text":"t","at":"2026-11-23T11:20:00.000Z","via":"queue","bits":65,"challenge":"c"}"#
        do {
            _ = try PowJob.decode(json)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("\"bits\""))
        }
    }

    @Test("PoW replies: a proof or an error")
    func powReplies() throws {
        let proof = Proof(bits: 8, challenge: "c", nonce: "7", hash: "00ff", elapsedMs: 1, hashesPerSecond: 2, via: .rpc)
        let success = PowReply.success(id: "A", proof: proof)
        #expect(Set(try object(success.encode()).keys) == ["ok", "id", "proof"])
        #expect(try PowReply.decode(success.encode()) == success)
        let failure = PowReply.failure(id: "A", error: "gave up")
        #expect(failure.encodedString() == #"{"error":"gave up","id":"A","ok":false}"#)
    }
}
