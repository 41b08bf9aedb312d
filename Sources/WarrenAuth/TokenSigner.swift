import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signs and verifies JSON Web Tokens with HMAC-SHA256 (`alg: HS256`), and nothing else.
///
/// Verification is strict: exactly three base64url parts, a header whose `alg` is `HS256`
/// (so `none` and every other algorithm are refused), a valid signature compared in constant
/// time, the expected `typ`, an expiry in the future and an issue time not in the future.
public struct TokenSigner: Sendable {
    /// The longest token looked at; anything longer is refused before decoding.
    public static let maximumLength = 2048
    /// How far the issuing clock may be ahead of the verifying one.
    public static let allowedSkew: Int64 = 60

    // SymmetricKey is not Sendable in this swift-crypto; the bytes are, and wrapping them is cheap.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: self.keyBytes) }

    /// Creates a signer around a key of at least 32 bytes.
    public init(key: SigningKey) {
        self.keyBytes = key.bytes
    }

    private static let header: String = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    private struct Header: Decodable {
        var alg: String
        var typ: String?
    }

    /// Signs `claims` as a compact JWT.
    public func sign(_ claims: TokenClaims) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a struct of strings and integers cannot fail.
        let payload = Base64URL.encode(try! encoder.encode(claims))
        let input = Self.header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: self.key)
        return input + "." + Base64URL.encode(mac)
    }

    /// Checks a token and returns its claims.
    /// - Parameters:
    ///   - token: the compact JWT.
    ///   - type: the kind of token the caller expects.
    ///   - now: the current time, in seconds since 1970.
    ///   - allowingExpired: accept a token whose only fault is its age (to sign out with it:
    ///     revoking can only take rights away).
    /// - Throws: ``TokenError`` saying why the token is refused.
    public func verify(_ token: String, as type: TokenType, now: Int64, allowingExpired: Bool = false) throws(TokenError) -> TokenClaims {
        guard token.utf8.count <= Self.maximumLength else { throw TokenError(.malformed, "longer than \(Self.maximumLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw TokenError(.malformed, "not three base64url parts") }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw TokenError(.malformed, "the header is not JSON with an alg")
        }
        guard header.alg == "HS256" else { throw TokenError(.wrongAlgorithm, "alg is \(header.alg), not HS256") }
        if let typ = header.typ, typ != "JWT" { throw TokenError(.malformed, "header typ is \(typ), not JWT") }
        let input = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: self.key) else {
            throw TokenError(.badSignature, "the signature does not match")
        }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: Data(payloadBytes)) else {
            throw TokenError(.malformed, "the payload is not a Warren claim set")
        }
        guard claims.type == type else { throw TokenError(.wrongType, "a \(claims.type.rawValue) token, not a \(type.rawValue) token") }
        guard now < claims.expiresAt || allowingExpired else { throw TokenError(.expired, "expired at \(claims.expiresAt), now \(now)") }
        guard claims.issuedAt <= now + Self.allowedSkew else {
            throw TokenError(.notYetValid, "issued at \(claims.issuedAt), now \(now)")
        }
        return claims
    }
}
