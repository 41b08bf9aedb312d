import Foundation

/// What a room event is, and so how a browser shows it.
public enum EventKind: String, Codable, Sendable, CaseIterable {
    /// A person's post.
    case message
    /// A bot's answer to a post (the reverser), linked by `inReplyTo`.
    case reply
    /// A `!pow` / `!rpc` post, shown once, carrying its proof of work.
    case proof
    /// A message from Warren itself, such as the cron greeting.
    case system
    /// Someone came or went.
    case presence
    /// A refusal or failure, sent only to the user it concerns.
    case error
    /// Someone is typing in the room: transient (a short TTL), never stored nor backfilled.
    case typing
    /// Sent to one person's tabs only: their rooms changed (joined, left, invited, a new
    /// direct message) or their read position moved; `text` says which, `room` names the room.
    case rooms
    /// Someone's first tab connected or last tab went (closed, lost, logged out), as the broker
    /// saw their online queue's consumers: "alice came online", "alice went offline", or a batch
    /// ("alice, bob and 3 others went offline"). Transient, never stored nor backfilled.
    case online

    /// Whether events of this kind are kept in history (typing, online and personal notices are not).
    public var isStored: Bool {
        switch self {
        case .typing, .rooms, .online: false
        default: true
        }
    }
}

/// How a proof of work was requested.
public enum ProofVia: String, Codable, Sendable, CaseIterable {
    /// Through the `pow.jobs` work queue (`!pow`).
    case queue
    /// Through the `pow.rpc` request/reply queue (`!rpc`).
    case rpc
    /// By a direct gRPC call to a worker's `warren.v1.ProofOfWork/Solve` (`!grpc`).
    case grpc
}

/// A Hashcash-style proof: `SHA-256(UTF-8(challenge) ++ UTF-8(nonce))` starts with `bits` zero bits.
///
/// JSON: `{"bits": 24, "challenge": "...", "elapsedMs": 812, "hash": "000000a3...",
/// "hashesPerSecond": 20654000, "nonce": "17283", "via": "queue"}`.
public struct Proof: Codable, Sendable, Hashable {
    /// The number of leading zero bits the hash has at least.
    public var bits: Int
    /// The text the proof is bound to: `ProofChallenge.make(id:author:text:)` of the ProofOfWork module.
    public var challenge: String
    /// The decimal nonce that was found, as a string so no JSON reader rounds it.
    public var nonce: String
    /// The SHA-256 hash in lowercase hex (64 characters).
    public var hash: String
    /// How long the search took, in milliseconds.
    public var elapsedMs: Int
    /// How fast the search ran.
    public var hashesPerSecond: Int
    /// Whether the proof came from the job queue or the RPC queue.
    public var via: ProofVia

    /// Creates a proof.
    public init(
        bits: Int, challenge: String, nonce: String, hash: String,
        elapsedMs: Int, hashesPerSecond: Int, via: ProofVia
    ) {
        self.bits = bits
        self.challenge = challenge
        self.nonce = nonce
        self.hash = hash
        self.elapsedMs = elapsedMs
        self.hashesPerSecond = hashesPerSecond
        self.via = via
    }
}

extension Proof {
    /// Whether `hash` is 64 lowercase hex digits whose first `bits` bits are zero.
    ///
    /// This checks the claim's form only; recomputing the hash from `challenge` and `nonce` is
    /// the ProofOfWork target's job (and the browser's, with WebCrypto).
    public var hashMeetsDifficulty: Bool {
        let digits = Array(hash.utf8)
        guard digits.count == 64, (Limits.powMinBits...Limits.powMaxBits).contains(bits) else { return false }
        var zeroBits = 0
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            default: return false
            }
            if zeroBits < bits {
                zeroBits += value == 0 ? 4 : value.leadingZeroBitCount - 4
                if value != 0 && zeroBits < bits { return false }
            }
        }
        return zeroBits >= bits
    }
}

/// Everything a browser shows, in one JSON shape.
///
/// ```json
/// {"at": "2026-11-23T11:20:00.123Z", "clientId": "…"?, "code": "text.tooLong"?,
///  "from": "alice", "id": "01JF…", "inReplyTo": "01JF…"?, "kind": "message",
///  "proof": {…}?, "text": "hello"}
/// ```
///
/// `at` is RFC 3339 in UTC with milliseconds. Optional keys are left out when absent.
/// `clientId` (the post's own id from the browser, on `message` and `proof` events) lets the
/// sending tab replace its optimistic copy; `code` (on `error` events) is the ``Refusal/Code``.
public struct RoomEvent: WireMessage, Hashable {
    /// A time-ordered unique id; see ``EventID``.
    public var id: String
    /// What the event is.
    public var kind: EventKind
    /// Who it is from: a login, or a service name such as `reverser` or `cron`.
    public var from: String
    /// The text to show.
    public var text: String
    /// When it happened, to the millisecond (``init(id:kind:from:text:at:inReplyTo:proof:clientId:code:)``
    /// rounds it down, so an event equals itself after a JSON round trip).
    public var at: Date
    /// The id of the event this answers.
    public var inReplyTo: String?
    /// The proof of work of a `proof` event.
    public var proof: Proof?
    /// The browser's id for the post this event carries.
    public var clientId: String?
    /// The refusal code of an `error` event.
    public var code: String?
    /// The room the event belongs to (its routing key is `room.<room>`); on the wire it is left
    /// out for `general`, so events from before rooms, and their JSON, are general's.
    public var room: String

    /// Creates an event.
    public init(
        id: String, kind: EventKind, from: String, text: String, at: Date,
        inReplyTo: String? = nil, proof: Proof? = nil, clientId: String? = nil, code: String? = nil,
        room: String = ChatRoom.general
    ) {
        self.id = id
        self.kind = kind
        self.from = from
        self.text = text
        self.at = Timestamp.truncated(at)
        self.inReplyTo = inReplyTo
        self.proof = proof
        self.clientId = clientId
        self.code = code
        self.room = room
    }

    /// An `error` event telling one user why their request was refused.
    public static func refusal(_ refusal: Refusal, id: String, from: String, at: Date, clientId: String? = nil) -> RoomEvent {
        RoomEvent(id: id, kind: .error, from: from, text: refusal.message, at: at, clientId: clientId, code: refusal.code.rawValue)
    }

    /// The `proof` event for a proven job: the post as it was accepted, with its proof.
    public static func proven(_ job: PowJob, proof: Proof) -> RoomEvent {
        RoomEvent(id: job.id, kind: .proof, from: job.from, text: job.text, at: job.at, proof: proof, clientId: job.clientId, room: job.room)
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, from, text, at, inReplyTo, proof, clientId, code, room
    }

    /// Decodes an event, reading `at` as RFC 3339.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        kind = try container.decode(EventKind.self, forKey: .kind)
        from = try container.decode(String.self, forKey: .from)
        text = try container.decode(String.self, forKey: .text)
        at = try container.decodeTimestamp(forKey: .at)
        inReplyTo = try container.decodeIfPresent(String.self, forKey: .inReplyTo)
        proof = try container.decodeIfPresent(Proof.self, forKey: .proof)
        clientId = try container.decodeIfPresent(String.self, forKey: .clientId)
        code = try container.decodeIfPresent(String.self, forKey: .code)
        room = try container.decodeIfPresent(String.self, forKey: .room) ?? ChatRoom.general
    }

    /// Encodes an event, writing `at` as RFC 3339 with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(from, forKey: .from)
        try container.encode(text, forKey: .text)
        try container.encode(Timestamp.format(at), forKey: .at)
        try container.encodeIfPresent(inReplyTo, forKey: .inReplyTo)
        try container.encodeIfPresent(proof, forKey: .proof)
        try container.encodeIfPresent(clientId, forKey: .clientId)
        try container.encodeIfPresent(code, forKey: .code)
        if room != ChatRoom.general { try container.encode(room, forKey: .room) }
    }
}

extension KeyedDecodingContainer {
    /// Reads an RFC 3339 string as a date, with a clear error if it is not one.
    func decodeTimestamp(forKey key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: "\"\(text)\" is not an RFC 3339 time such as 2026-11-23T11:20:00.123Z."
            )
        }
        return Timestamp.truncated(date)
    }
}
