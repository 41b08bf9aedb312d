import ProofOfWork
import Testing
import WarrenCore
import WarrenServices

@Suite struct ProofConversionTests {
    @Test func solverProofBecomesAVerifiableWireProof() async throws {
        let proof = try await ProofSolver(workers: 1).solve(id: "i", author: "a", text: "t", bits: 8)
        let wire = WarrenCore.Proof(proof, via: .rpc)
        #expect(wire.nonce == String(proof.nonce))
        #expect(wire.via == .rpc)
        #expect(wire.hashMeetsDifficulty)
        #expect(wire.challenge == ProofChallenge.make(id: "i", author: "a", text: "t"))
    }
}
