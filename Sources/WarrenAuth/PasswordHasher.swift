import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Hashes and checks passwords: PBKDF2-HMAC-SHA256, a 16-byte random salt, a 32-byte hash.
///
/// The stored form carries its parameters, `pbkdf2-sha256$<rounds>$<salt>$<hash>` (salt and hash
/// in base64url), so the work factor can be raised later without breaking stored accounts.
/// Hashing is slow on purpose (about a quarter of a second at the default): run it off the
/// event loops.
public struct PasswordHasher: Sendable {
    /// The rounds OWASP recommends for PBKDF2-HMAC-SHA256 (2023): the default.
    public static let recommendedRounds = 600_000
    /// Fewer rounds than this are never accepted from a stored hash.
    static let minimumRounds = 1_000
    /// More rounds than this are refused, so a corrupt row cannot stall a request for minutes.
    static let maximumRounds = 10_000_000
    static let scheme = "pbkdf2-sha256"

    /// The rounds new hashes use.
    public let rounds: Int

    /// Creates a hasher.
    /// - Parameter rounds: the work factor of new hashes; tests use a small one (at least 1,000).
    public init(rounds: Int = PasswordHasher.recommendedRounds) {
        precondition((Self.minimumRounds...Self.maximumRounds).contains(rounds), "PBKDF2 rounds out of range")
        self.rounds = rounds
    }

    /// Hashes a password with a new random salt.
    public func hash(_ password: String) throws -> String {
        let salt = SecureRandom.bytes(16)
        let derived = try Self.derive(password, salt: salt, rounds: self.rounds)
        return [Self.scheme, String(self.rounds), Base64URL.encode(salt), Base64URL.encode(derived)].joined(separator: "$")
    }

    /// True when `password` is the one `encoded` was made from. A malformed `encoded` is false.
    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme,
            let rounds = Int(parts[1]), (Self.minimumRounds...Self.maximumRounds).contains(rounds),
            let salt = Base64URL.decode(parts[2]), !salt.isEmpty,
            let expected = Base64URL.decode(parts[3]), expected.count == 32,
            let derived = try? Self.derive(password, salt: salt, rounds: rounds)
        else { return false }
        return constantTimeEquals(derived, expected)
    }

    /// A hash of a password nobody knows, to spend the same time on a name that has no account.
    public func decoyHash() -> String {
        (try? self.hash(SecureRandom.id())) ?? ""
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

/// What a new password must be.
public enum PasswordRules {
    /// The fewest characters.
    public static let minimumCharacters = 8
    /// The most UTF-8 bytes: enough for any passphrase, bounded so hashing cost stays bounded.
    public static let maximumBytes = 1024

    /// Throws an ``AuthFailure`` with code `weakPassword` naming what is wrong.
    public static func check(_ password: String) throws(AuthFailure) {
        if password.count < minimumCharacters {
            throw AuthFailure(.weakPassword, "The password is \(password.count) characters long; use at least \(minimumCharacters).")
        }
        if password.utf8.count > maximumBytes {
            throw AuthFailure(.weakPassword, "The password is \(password.utf8.count) bytes long; at most \(maximumBytes) are allowed.")
        }
        if password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw AuthFailure(.weakPassword, "The password contains a control character; use printable characters only.")
        }
    }
}
