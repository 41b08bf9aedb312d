/// A solved proof of work: a nonce whose hash with the challenge starts with `bits` zero bits.
///
/// Its JSON is design.md's `proof` object: `bits`, `challenge`, `nonce` (a decimal string, since
/// JavaScript numbers cannot hold every UInt64), `hash` (lowercase hex), `elapsedMs` and
/// `hashesPerSecond` (whole numbers), `via` when set, plus `hashesTried`, which readers of the
/// design's shape may ignore.
public struct Proof: Sendable, Hashable, Codable {
    /// How the proof was requested, as carried in a room event.
    public struct Via: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The wire value.
        public var rawValue: String

        /// Creates a value from its wire form.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Solved from the `!pow` job queue.
        public static let queue = Via(rawValue: "queue")
        /// Solved for an `!rpc` request.
        public static let rpc = Via(rawValue: "rpc")

        /// The wire value.
        public var description: String { rawValue }

        /// Decodes the bare string.
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        /// Encodes the bare string.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// Required leading zero bits (1...64).
    public var bits: Int
    /// The string the nonce is appended to; see ``ProofChallenge``.
    public var challenge: String
    /// The winning nonce.
    public var nonce: UInt64
    /// Lowercase hex SHA-256 of `challenge ++ decimal(nonce)`.
    public var hash: String
    /// Hashes computed by all workers together.
    public var hashesTried: UInt64
    /// Wall-clock time of the search.
    public var elapsed: Duration
    /// `hashesTried` per second of `elapsed`.
    public var hashesPerSecond: Double
    /// How the proof was requested; set by the caller that publishes it.
    public var via: Via?

    /// Creates a proof from its parts.
    public init(
        bits: Int, challenge: String, nonce: UInt64, hash: String, hashesTried: UInt64,
        elapsed: Duration, hashesPerSecond: Double, via: Via? = nil
    ) {
        self.bits = bits
        self.challenge = challenge
        self.nonce = nonce
        self.hash = hash
        self.hashesTried = hashesTried
        self.elapsed = elapsed
        self.hashesPerSecond = hashesPerSecond
        self.via = via
    }

    /// This proof with `via` set.
    public func with(via: Via?) -> Proof {
        var copy = self
        copy.via = via
        return copy
    }

    /// `elapsed` in milliseconds, as a fraction.
    public var elapsedMilliseconds: Double { elapsed.seconds * 1000 }

    enum CodingKeys: String, CodingKey {
        case bits, challenge, nonce, hash, elapsedMs, hashesPerSecond, via, hashesTried
    }

    /// Decodes design.md's `proof` object; `nonce` may be a string or a number, `hashesTried` may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bits = try container.decode(Int.self, forKey: .bits)
        challenge = try container.decode(String.self, forKey: .challenge)
        if let text = try? container.decode(String.self, forKey: .nonce) {
            guard let value = UInt64(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .nonce, in: container, debugDescription: "nonce is not a decimal UInt64: \(text)")
            }
            nonce = value
        } else {
            nonce = try container.decode(UInt64.self, forKey: .nonce)
        }
        hash = try container.decode(String.self, forKey: .hash)
        let milliseconds = try container.decode(Double.self, forKey: .elapsedMs)
        elapsed = .nanoseconds(Int64((milliseconds * 1_000_000).rounded()))
        hashesPerSecond = try container.decode(Double.self, forKey: .hashesPerSecond)
        via = try container.decodeIfPresent(Via.self, forKey: .via)
        hashesTried =
            try container.decodeIfPresent(UInt64.self, forKey: .hashesTried)
            ?? UInt64(max(0, (hashesPerSecond * milliseconds / 1000).rounded()))
    }

    /// Encodes design.md's `proof` object (whole milliseconds and hashes per second).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bits, forKey: .bits)
        try container.encode(challenge, forKey: .challenge)
        try container.encode(String(nonce), forKey: .nonce)
        try container.encode(hash, forKey: .hash)
        try container.encode(Int64(elapsedMilliseconds.rounded()), forKey: .elapsedMs)
        try container.encode(Int64(hashesPerSecond.rounded()), forKey: .hashesPerSecond)
        try container.encodeIfPresent(via, forKey: .via)
        try container.encode(hashesTried, forKey: .hashesTried)
    }
}

extension Proof {
    /// Whether the proof holds: `bits` is in 1...64, `hash` is the SHA-256 of
    /// `challenge ++ decimal(nonce)`, and that digest starts with `bits` zero bits.
    ///
    /// This does not say which post the proof is for; see ``verify(id:author:text:backend:)``.
    public func verify(backend: SHA256Backend = .best) -> Bool {
        guard ProofOfWorkError.bitsRange.contains(bits) else { return false }
        let digest = backend.proofHash(challenge: challenge, nonce: nonce)
        return digest.hexString == hash.lowercased() && digest.leadingZeroBits >= bits
    }

    /// Whether the proof holds and its challenge is the one for this post.
    ///
    /// - Parameters:
    ///   - id: the post's id.
    ///   - author: the login the post is from.
    ///   - text: the post's text.
    public func verify(id: String, author: String, text: String, backend: SHA256Backend = .best) -> Bool {
        challenge == ProofChallenge.make(id: id, author: author, text: text) && verify(backend: backend)
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
