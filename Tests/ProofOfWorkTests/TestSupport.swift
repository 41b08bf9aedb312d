import Crypto

@testable import ProofOfWork

/// Deterministic generator so a failing random case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// swift-crypto's digest of `challenge ++ decimal(nonce)`, the reference every path is held to.
func referenceHash(_ challenge: String, _ nonce: UInt64) -> [UInt8] {
    Array(SHA256.hash(data: Array(challenge.utf8) + Array(String(nonce).utf8)))
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
}
