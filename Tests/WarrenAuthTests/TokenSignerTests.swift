import Crypto
import Foundation
import Testing
@testable import WarrenAuth

@Suite("JSON Web Tokens (HS256)")
struct TokenSignerTests {
    let key = SigningKey(bytes: Array(repeating: 7, count: 32))!
    let now: Int64 = 1_800_000_000

    func claims(type: TokenType = .access, issuedAt: Int64? = nil, lifetime: Int64 = 900) -> TokenClaims {
        let issued = issuedAt ?? now
        return TokenClaims(subject: "alice", issuedAt: issued, expiresAt: issued + lifetime, id: "id-1", type: type, family: "fam-1")
    }

    func refusal(_ token: String, as type: TokenType = .access, at time: Int64? = nil) -> TokenError.Code? {
        do {
            _ = try TokenSigner(key: key).verify(token, as: type, now: time ?? now)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func aSignedTokenVerifiesAndKeepsItsClaims() throws {
        let signer = TokenSigner(key: key)
        let token = signer.sign(claims())
        #expect(token.split(separator: ".").count == 3)
        #expect(try signer.verify(token, as: .access, now: now + 10) == claims())
    }

    @Test func theHeaderSaysHS256() throws {
        let token = TokenSigner(key: key).sign(claims())
        let header = try #require(Base64URL.decode(token.split(separator: ".")[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"HS256","typ":"JWT"}"#)
    }

    @Test func aTokenSignedWithAnotherKeyIsRefused() {
        let other = TokenSigner(key: SigningKey(bytes: Array(repeating: 8, count: 32))!)
        #expect(refusal(other.sign(claims())) == .badSignature)
    }

    @Test func anExpiredTokenIsRefusedFromItsExpirySecondOn() {
        let token = TokenSigner(key: key).sign(claims())
        #expect(refusal(token, at: now + 899) == nil)
        #expect(refusal(token, at: now + 900) == .expired)
        #expect(refusal(token, at: now + 100_000) == .expired)
        #expect(throws: Never.self) { try TokenSigner(key: key).verify(token, as: .access, now: now + 100_000, allowingExpired: true) }
    }

    @Test func aTokenFromTheFutureIsRefused() {
        let token = TokenSigner(key: key).sign(claims(issuedAt: now + 3600))
        #expect(refusal(token) == .notYetValid)
    }

    @Test func theWrongKindOfTokenIsRefused() {
        let signer = TokenSigner(key: key)
        #expect(refusal(signer.sign(claims(type: .refresh)), as: .access) == .wrongType)
        #expect(refusal(signer.sign(claims(type: .access)), as: .refresh) == .wrongType)
    }

    @Test func aTamperedPayloadIsRefused() throws {
        let token = TokenSigner(key: key).sign(claims())
        let parts = token.split(separator: ".").map(String.init)
        var payload = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self)
        payload = payload.replacingOccurrences(of: "\"alice\"", with: "\"bob\"")
        let forged = [parts[0], Base64URL.encode(Array(payload.utf8)), parts[2]].joined(separator: ".")
        #expect(refusal(forged) == .badSignature)
    }

    @Test func anotherAlgorithmInTheHeaderIsRefused() throws {
        let signer = TokenSigner(key: key)
        let parts = signer.sign(claims()).split(separator: ".").map(String.init)
        for alg in ["none", "HS512", "RS256", "hs256"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
            // Re-signed with the right key, so only the algorithm is wrong.
            let input = header + "." + parts[1]
            let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: key.bytes))
            #expect(refusal(input + "." + Base64URL.encode(mac)) == .wrongAlgorithm, "alg \(alg)")
        }
        // alg none with an empty signature, the classic forgery.
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8))
        #expect(refusal(none + "." + parts[1] + ".") != nil)
    }

    @Test func malformedTokensAreRefused() {
        for token in ["", "a.b", "a.b.c.d", "!!.??.**", "abc.def.ghi", String(repeating: "a", count: 5000)] {
            #expect(refusal(token) == .malformed, "token \(token.prefix(20))")
        }
    }

    @Test func base64URLRoundTripsAndRefusesOtherAlphabets() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("abc=") == nil)
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AB") == nil, "non-canonical: unused bits set")
    }
}
