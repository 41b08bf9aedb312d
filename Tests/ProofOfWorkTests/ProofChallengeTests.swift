import Crypto
import Testing

@testable import ProofOfWork

@Suite("Challenge format")
struct ProofChallengeTests {
    @Test("canonical post is length-prefixed UTF-8")
    func canonical() {
        let bytes = ProofChallenge.canonicalPost(id: "m-1", author: "zoë", text: "a:b !pow")
        #expect(String(decoding: bytes, as: UTF8.self) == "3:m-1:4:zoë:8:a:b !pow")
    }

    @Test("challenge is the prefix and the hex SHA-256 of the canonical post")
    func challenge() {
        let challenge = ProofChallenge.make(id: "m-1", author: "alice", text: "hello !pow")
        let expected = "warren-pow:v1:" + hex(SHA256.hash(data: Array("3:m-1:5:alice:10:hello !pow".utf8)))
        #expect(challenge == expected)
        #expect(challenge.utf8.count == 78)
    }

    @Test("fields cannot be shifted into one another")
    func unambiguous() {
        let a = ProofChallenge.make(id: "a:1", author: "b", text: "c")
        let b = ProofChallenge.make(id: "a", author: "1:b", text: "c")
        let c = ProofChallenge.make(id: "a", author: "1", text: "b:c")
        #expect(a != b)
        #expect(b != c)
        #expect(a != c)
        #expect(ProofChallenge.make(id: "", author: "", text: "") != ProofChallenge.make(id: "", author: "", text: " "))
    }
}
