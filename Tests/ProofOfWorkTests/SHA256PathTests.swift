import Crypto
import Testing

@testable import ProofOfWork

@Suite("SHA-256 paths")
struct SHA256PathTests {
    static let vectors: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test("portable path is always available; best is available")
    func availability() {
        #expect(SHA256Backend.portable.isAvailable)
        #expect(SHA256Backend.available.contains(.portable))
        #expect(SHA256Backend.best.isAvailable)
        #expect(SHA256Backend.available.first == SHA256Backend.best)
    }

    @Test("NIST vectors", arguments: SHA256Backend.available)
    func nistVectors(backend: SHA256Backend) {
        for vector in Self.vectors {
            #expect(hex(backend.digest(of: Array(vector.message.utf8))) == vector.digest, "\(vector.message)")
        }
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(
            hex(backend.digest(of: million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("NIST messages split into challenge and nonce digits go through the search loop", arguments: SHA256Backend.available)
    func nistThroughSearchLoop(backend: SHA256Backend) {
        for vector in Self.vectors {
            let digests = backend.searchLoopDigests(challenge: vector.message, start: 0, count: 3)
            for (offset, digest) in digests.enumerated() {
                #expect(digest == referenceHash(vector.message, UInt64(offset)))
            }
        }
    }

    @Test("search loop matches swift-crypto on random challenges and digit transitions", arguments: SHA256Backend.available)
    func randomChallenges(backend: SHA256Backend) {
        var random = SplitMix64(state: 0x5EED_0000 + UInt64(backend.rawValue.utf8.count))
        let edges: [UInt64] = [
            0, 9, 99, 999, 9_999, 99_999, 999_999, 9_999_999, 99_999_999, 999_999_999, 9_999_999_999,
            99_999_999_999_999, 999_999_999_999_999_999, 9_999_999_999_999_999_999,
        ]
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789:-_ ".utf8)
        var mismatches = 0
        var checked = 0
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...200, using: &random)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            let challenge = String(decoding: bytes, as: UTF8.self)
            let count = Int.random(in: 1...12, using: &random)
            let start: UInt64
            switch Int.random(in: 0..<4, using: &random) {
            case 0: start = edges.randomElement(using: &random)! &- UInt64.random(in: 0...5, using: &random)
            case 1: start = UInt64.random(in: 0...1_000_000, using: &random)
            case 2: start = UInt64.max - UInt64(count) + 1 - UInt64.random(in: 0...3, using: &random)
            default: start = UInt64.random(in: 0...(UInt64.max - 64), using: &random)
            }
            let safeStart = min(start, UInt64.max - UInt64(count) + 1)
            let digests = backend.searchLoopDigests(challenge: challenge, start: safeStart, count: count)
            for (offset, digest) in digests.enumerated() {
                checked += 1
                if digest != referenceHash(challenge, safeStart + UInt64(offset)) {
                    mismatches += 1
                    if mismatches < 5 {
                        Issue.record("mismatch: length \(length), nonce \(safeStart + UInt64(offset)), challenge \(challenge)")
                    }
                }
            }
        }
        #expect(mismatches == 0)
        #expect(checked > 10_000)
    }

    @Test("every tail length and digit count, exhaustively around 9 -> 10 digit transitions", arguments: SHA256Backend.available)
    func everyTailLength(backend: SHA256Backend) {
        for length in 0...130 {
            let challenge = String(repeating: "x", count: length)
            for start: UInt64 in [0, 7, 95, 995, 99_995, 999_999_995] {
                let digests = backend.searchLoopDigests(challenge: challenge, start: start, count: 9)
                for (offset, digest) in digests.enumerated() {
                    #expect(
                        digest == referenceHash(challenge, start + UInt64(offset)),
                        "length \(length) nonce \(start + UInt64(offset))")
                }
            }
        }
    }

    @Test("range search finds the first qualifying nonce", arguments: SHA256Backend.available)
    func rangeSearchFindsFirstHit(backend: SHA256Backend) throws {
        let solver = ProofSolver(workers: 1, backend: backend)
        // Several challenges and odd/even starts, so hits land in either lane of a paired loop.
        for (index, start) in [UInt64(0), 1, 7, 98, 99_990].enumerated() {
            for length in [10, 55, 60] {
                let challenge = String(repeating: "p", count: length) + "\(index)"
                let range = start..<(start + 5_000)
                let expected = range.first { referenceHash(challenge, $0).leadingZeroBits >= 6 }
                let result = try solver.search(challenge: challenge, bits: 6, nonces: range)
                #expect(result.nonce == expected, "challenge \(challenge) from \(start)")
                #expect(result.tried == expected.map { $0 - start + 1 } ?? 5_000)
                #expect(result.hash == expected.map { hex(referenceHash(challenge, $0)) })
            }
        }
        let challenge = ProofChallenge.make(id: "r1", author: "alice", text: "range")
        let expected = (UInt64(0)..<100_000).first { referenceHash(challenge, $0).leadingZeroBits >= 10 }
        let result = try solver.search(challenge: challenge, bits: 10, nonces: 0..<100_000)
        #expect(result.nonce == expected)
    }
}
