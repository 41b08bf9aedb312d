import ProofOfWork
import Testing
import WarrenCore

/// Checks that a `proof` event carries the proven post's text and a proof that the solver
/// accepts for it: the way it came (`via`), the rule's 12 bits in tests, and a nonce whose hash
/// meets them for this event's id, author and text.
func expectVerifiedProof(_ event: RoomEvent, via: ProofVia, author: String, text: String) throws {
    #expect(event.kind == .proof)
    #expect(event.from == author)
    #expect(event.text == text)
    let proof = try #require(event.proof)
    #expect(proof.via == via)
    #expect(proof.bits == 12)
    let solverProof = ProofOfWork.Proof(
        bits: proof.bits, challenge: proof.challenge, nonce: try #require(UInt64(proof.nonce)), hash: proof.hash,
        hashesTried: 0, elapsed: .zero, hashesPerSecond: 0
    )
    #expect(solverProof.verify(id: event.id, author: author, text: text))
}
