import Foundation

/// A post held back for a proof of work: the job on the jobs queue and the RPC request alike.
///
/// JSON: `{"at": "2026-11-23T11:20:00.123Z", "bits": 24, "challenge": "warren-pow:v1:9f2c…",
/// "clientId": "5f0c…", "from": "alice", "id": "01JF…", "text": "hello", "via": "queue"}`.
/// The worker searches for a nonce over `challenge` with `bits` leading zero bits; a job
/// queue worker then publishes ``RoomEvent/proven(_:proof:)`` to the room, an RPC worker answers
/// with a ``PowReply``.
public struct PowJob: WireMessage, Hashable {
    /// The id the post was accepted under; the proven event keeps it.
    public var id: String
    /// The author's login.
    public var from: String
    /// The post's text, without `!pow` / `!rpc`.
    public var text: String
    /// When the post was accepted, to the millisecond.
    public var at: Date
    /// The browser's id for the post.
    public var clientId: String?
    /// Job queue or RPC.
    public var via: ProofVia
    /// The difficulty, in leading zero bits.
    public var bits: Int
    /// The string the proof is bound to: `ProofChallenge.make(id:author:text:)` of the post, from
    /// the ProofOfWork module (WarrenCore does no hashing).
    public var challenge: String
    /// The post's room (left out of the JSON for `general`).
    public var room: String

    /// Creates a job for a post and the challenge that binds a proof to it.
    public init(
        id: String, from: String, text: String, at: Date, clientId: String?, via: ProofVia, bits: Int, challenge: String,
        room: String = ChatRoom.general
    ) {
        self.id = id
        self.from = from
        self.text = text
        self.at = Timestamp.truncated(at)
        self.clientId = clientId
        self.via = via
        self.bits = bits
        self.challenge = challenge
        self.room = room
    }

    /// The job for an accepted post's event.
    public init(event: RoomEvent, via: ProofVia, bits: Int, challenge: String) {
        self.init(
            id: event.id, from: event.from, text: event.text, at: event.at, clientId: event.clientId, via: via, bits: bits,
            challenge: challenge, room: event.room
        )
    }

    private enum CodingKeys: String, CodingKey {
        case id, from, text, at, clientId, via, bits, challenge, room
    }

    /// Decodes a job, reading `at` as RFC 3339.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        from = try container.decode(String.self, forKey: .from)
        text = try container.decode(String.self, forKey: .text)
        at = try container.decodeTimestamp(forKey: .at)
        clientId = try container.decodeIfPresent(String.self, forKey: .clientId)
        via = try container.decode(ProofVia.self, forKey: .via)
        bits = try container.decode(Int.self, forKey: .bits)
        guard (Limits.powMinBits...Limits.powMaxBits).contains(bits) else {
            throw DecodingError.dataCorruptedError(
                forKey: .bits, in: container,
                debugDescription: "\(bits) is not between \(Limits.powMinBits) and \(Limits.powMaxBits)."
            )
        }
        challenge = try container.decode(String.self, forKey: .challenge)
        room = try container.decodeIfPresent(String.self, forKey: .room) ?? ChatRoom.general
    }

    /// Encodes a job, writing `at` as RFC 3339 with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(from, forKey: .from)
        try container.encode(text, forKey: .text)
        try container.encode(Timestamp.format(at), forKey: .at)
        try container.encodeIfPresent(clientId, forKey: .clientId)
        try container.encode(via, forKey: .via)
        try container.encode(bits, forKey: .bits)
        try container.encode(challenge, forKey: .challenge)
        if room != ChatRoom.general { try container.encode(room, forKey: .room) }
    }
}

/// The PoW worker's answer to an RPC job, sent to its reply-to with its correlation id.
///
/// Success: `{"id": "01JF…", "ok": true, "proof": {…}}`.
/// Failure: `{"error": "bits must be between 1 and 64", "id": "01JF…", "ok": false}`.
public struct PowReply: WireMessage, Hashable {
    /// Whether a proof was found.
    public var ok: Bool
    /// The job's id.
    public var id: String
    /// The proof, on success.
    public var proof: Proof?
    /// The reason, on failure.
    public var error: String?

    /// Creates a reply; prefer ``success(id:proof:)`` and ``failure(id:error:)``.
    public init(ok: Bool, id: String, proof: Proof? = nil, error: String? = nil) {
        self.ok = ok
        self.id = id
        self.proof = proof
        self.error = error
    }

    /// A reply carrying the proof.
    public static func success(id: String, proof: Proof) -> PowReply {
        PowReply(ok: true, id: id, proof: proof)
    }

    /// A reply explaining why no proof came.
    public static func failure(id: String, error: String) -> PowReply {
        PowReply(ok: false, id: id, error: error)
    }
}
