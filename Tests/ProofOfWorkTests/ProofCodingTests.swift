import Foundation
import Testing

@testable import ProofOfWork

@Suite("Proof JSON")
struct ProofCodingTests {
    let proof = Proof(
        bits: 24, challenge: "warren-pow:v1:abc", nonce: 18_446_744_073_709_551_615, hash: "000000ff",
        hashesTried: 16_777_216, elapsed: .milliseconds(250) + .microseconds(400), hashesPerSecond: 67_000_000.4,
        via: .rpc)

    @Test("encodes design.md's proof object")
    func shape() throws {
        let data = try JSONEncoder().encode(proof)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["bits"] as? Int == 24)
        #expect(object["challenge"] as? String == "warren-pow:v1:abc")
        #expect(object["nonce"] as? String == "18446744073709551615")
        #expect(object["hash"] as? String == "000000ff")
        #expect(object["elapsedMs"] as? Int == 250)
        #expect(object["hashesPerSecond"] as? Int == 67_000_000)
        #expect(object["via"] as? String == "rpc")
        #expect(object["hashesTried"] as? Int == 16_777_216)
        #expect(Set(object.keys) == ["bits", "challenge", "nonce", "hash", "elapsedMs", "hashesPerSecond", "via", "hashesTried"])
    }

    @Test("via is omitted until set")
    func viaOptional() throws {
        let data = try JSONEncoder().encode(proof.with(via: nil))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["via"] == nil)
        #expect(proof.with(via: .queue).via?.rawValue == "queue")
    }

    @Test("decodes what it encodes, to the millisecond")
    func roundTrip() throws {
        let decoded = try JSONDecoder().decode(Proof.self, from: JSONEncoder().encode(proof))
        #expect(decoded.bits == proof.bits)
        #expect(decoded.challenge == proof.challenge)
        #expect(decoded.nonce == proof.nonce)
        #expect(decoded.hash == proof.hash)
        #expect(decoded.hashesTried == proof.hashesTried)
        #expect(decoded.elapsed == .milliseconds(250))
        #expect(decoded.hashesPerSecond == 67_000_000)
        #expect(decoded.via == .rpc)
    }

    @Test("decodes the design's minimal object from a browser")
    func decodesMinimal() throws {
        let json = #"{"bits": 8, "challenge": "c", "nonce": "42", "hash": "00ab", "elapsedMs": 1.5, "hashesPerSecond": 1000, "via": "queue"}"#
        let decoded = try JSONDecoder().decode(Proof.self, from: Data(json.utf8))
        #expect(decoded.nonce == 42)
        #expect(decoded.elapsed == .microseconds(1500))
        #expect(decoded.hashesTried == 2)
        #expect(decoded.via == .queue)
    }

    @Test("a non-numeric nonce is a decoding error")
    func badNonce() {
        let json = #"{"bits": 8, "challenge": "c", "nonce": "4x2", "hash": "00", "elapsedMs": 0, "hashesPerSecond": 0}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Proof.self, from: Data(json.utf8)) }
    }
}
