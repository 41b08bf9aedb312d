import Testing
@testable import WarrenAuth

@Suite("Passwords")
struct PasswordTests {
    let hasher = PasswordHasher(rounds: 1_000)

    @Test func theRightPasswordMatchesAndAWrongOneDoesNot() throws {
        let encoded = try hasher.hash("correct horse")
        #expect(hasher.verify("correct horse", against: encoded))
        #expect(!hasher.verify("correct horsE", against: encoded))
        #expect(!hasher.verify("", against: encoded))
    }

    @Test func theEncodingCarriesSchemeRoundsSaltAndHash() throws {
        let encoded = try hasher.hash("correct horse")
        let parts = encoded.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2-sha256")
        #expect(parts[1] == "1000")
        #expect(Base64URL.decode(parts[2])?.count == 16)
        #expect(Base64URL.decode(parts[3])?.count == 32)
    }

    @Test func eachHashHasItsOwnSalt() throws {
        #expect(try hasher.hash("same password") != hasher.hash("same password"))
    }

    @Test func theRoundsComeFromTheStoredHash() throws {
        let strong = try PasswordHasher(rounds: 2_000).hash("correct horse")
        #expect(hasher.verify("correct horse", against: strong))
    }

    @Test func theDefaultIsOWASPsWorkFactor() {
        #expect(PasswordHasher().rounds == 600_000)
    }

    @Test func aKnownVectorMatches() {
        // PBKDF2-HMAC-SHA256("password", "salt", 1000 rounds, 32 bytes), a published test vector
        // written in this encoding: salt "salt" is c2FsdA, the hash
        // 632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3.
        let hash: [UInt8] = [
            0x63, 0x2c, 0x28, 0x12, 0xe4, 0x6d, 0x46, 0x04, 0x10, 0x2b, 0xa7, 0x61, 0x8e, 0x9d, 0x6d, 0x7d,
            0x2f, 0x81, 0x28, 0xf6, 0x26, 0x6b, 0x4a, 0x03, 0x26, 0x4d, 0x2a, 0x04, 0x60, 0xb7, 0xdc, 0xb3,
        ]
        let encoded = "pbkdf2-sha256$1000$c2FsdA$" + Base64URL.encode(hash)
        #expect(hasher.verify("password", against: encoded))
        #expect(!hasher.verify("passwore", against: encoded))
    }

    @Test func malformedHashesNeverMatch() {
        for encoded in ["", "plain", "pbkdf2-sha256$1000$c2FsdA", "md5$1000$c2FsdA$AAAA", "pbkdf2-sha256$10$c2FsdA$AAAA",
                        "pbkdf2-sha256$99999999999$c2FsdA$AAAA", "pbkdf2-sha256$1000$$AAAA"] {
            #expect(!hasher.verify("password", against: encoded), "\(encoded)")
        }
    }

    @Test func passwordRules() {
        #expect(throws: AuthFailure.self) { try PasswordRules.check("short") }
        #expect(throws: AuthFailure.self) { try PasswordRules.check("1234567") }
        #expect(throws: AuthFailure.self) { try PasswordRules.check(String(repeating: "x", count: 1025)) }
        #expect(throws: AuthFailure.self) { try PasswordRules.check("tab\there ok") }
        #expect(throws: Never.self) { try PasswordRules.check("12345678") }
        #expect(throws: Never.self) { try PasswordRules.check(String(repeating: "é", count: 512)) }
        do {
            try PasswordRules.check("short")
        } catch {
            #expect(error.code == .weakPassword)
            #expect(error.message.contains("at least 8"))
        }
    }

    @Test func constantTimeEqualityIsEquality() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(constantTimeEquals([], []))
    }
}
