import ProofOfWork
import WarrenCore

extension WarrenCore.Proof {
    /// The wire form of a solver's proof.
    public init(_ proof: ProofOfWork.Proof, via: ProofVia) {
        self.init(
            bits: proof.bits,
            challenge: proof.challenge,
            nonce: String(proof.nonce),
            hash: proof.hash,
            elapsedMs: Int(proof.elapsedMilliseconds.rounded()),
            hashesPerSecond: Int(proof.hashesPerSecond.isFinite ? proof.hashesPerSecond.rounded() : 0),
            via: via
        )
    }
}
