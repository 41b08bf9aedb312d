#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two kinds of token Warren signs.
public enum TokenType: String, Codable, Sendable, Hashable {
    /// Short-lived (15 minutes): the STOMP passcode and the bearer token of the REST API.
    case access
    /// Long-lived (7 days), single use: exchanged at `/api/refresh` for a new pair.
    case refresh
}

/// The claims of a Warren token (a JSON Web Token).
public struct TokenClaims: Codable, Sendable, Hashable {
    /// The account name (`sub`).
    public var subject: String
    /// Issued at, in seconds since 1970 (`iat`).
    public var issuedAt: Int64
    /// Expires at, in seconds since 1970 (`exp`); the token is refused from this second on.
    public var expiresAt: Int64
    /// The token's unique id (`jti`); a refresh token's record in the store has this id.
    public var id: String
    /// Access or refresh (`typ`).
    public var type: TokenType
    /// The sign-in this token descends from (`fam`); revoking it revokes every token of it.
    public var family: String

    enum CodingKeys: String, CodingKey {
        case subject = "sub"
        case issuedAt = "iat"
        case expiresAt = "exp"
        case id = "jti"
        case type = "typ"
        case family = "fam"
    }

    /// Creates claims.
    public init(subject: String, issuedAt: Int64, expiresAt: Int64, id: String, type: TokenType, family: String) {
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.id = id
        self.type = type
        self.family = family
    }

    /// The expiry as a date.
    public var expiryDate: Date { Date(timeIntervalSince1970: TimeInterval(self.expiresAt)) }
}

/// Why a token was refused. The message is for logs; clients only learn "invalid or expired".
public struct TokenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem; open-ended.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Not three base64url parts, too long, or not JSON.
        public static let malformed = Code(name: "malformed")
        /// The header names another algorithm than HS256.
        public static let wrongAlgorithm = Code(name: "wrongAlgorithm")
        /// The signature does not match: another key, or a changed header or payload.
        public static let badSignature = Code(name: "badSignature")
        /// The expiry has passed.
        public static let expired = Code(name: "expired")
        /// Issued in the future (beyond the allowed clock skew).
        public static let notYetValid = Code(name: "notYetValid")
        /// An access token where a refresh token was expected, or the reverse.
        public static let wrongType = Code(name: "wrongType")
        /// The token was revoked (signed out, or its family was reused).
        public static let revoked = Code(name: "revoked")
        /// The code's name.
        public var description: String { name }
    }

    /// The kind of problem.
    public var code: Code
    /// Details for the log.
    public var detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `expired: the token expired at 1700000000`.
    public var description: String { "\(code): \(detail)" }
}
