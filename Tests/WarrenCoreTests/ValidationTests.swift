import Testing
@testable import WarrenCore

@Suite("Validation")
struct ValidationTests {
    /// The code of the refusal `body` throws, or nil if it does not throw one.
    func code<Value>(_ body: () throws -> Value) -> Refusal.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? Refusal)?.code
        }
    }

    // MARK: Login names

    @Test("login names of 1 and 32 allowed characters pass")
    func loginBoundaries() throws {
        #expect(try Validation.login("a") == "a")
        let longest = String(repeating: "x", count: 32)
        #expect(try Validation.login(longest) == longest)
        #expect(try Validation.login("Alice_B.c-9") == "Alice_B.c-9")
    }

    @Test("login refusals: empty, 33 characters, bad characters")
    func loginRefusals() {
        #expect(code { try Validation.login("") } == .loginEmpty)
        #expect(code { try Validation.login(String(repeating: "x", count: 33)) } == .loginTooLong)
        for bad in ["al ice", "alice!", "é", "a/b", "a:b", "👋", "a\u{0}"] {
            #expect(code { try Validation.login(bad) } == .loginInvalidCharacter, "\(bad)")
        }
    }

    @Test("a refusal names the offending character, invisible ones by code point")
    func loginMessage() {
        do {
            _ = try Validation.login("al ice")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("U+0020"))
        }
        do {
            _ = try Validation.login("a!")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("'!' (U+0021)"))
        }
    }

    // MARK: Session ids

    @Test("session ids: base64url of 16 bytes (22) and a dashless UUID (32) pass")
    func sessionAccepted() throws {
        #expect(try Validation.session("q83vEjRWeJCrze8SNFZ4kA") == "q83vEjRWeJCrze8SNFZ4kA")
        #expect(try Validation.session("3f2504e04f8911d39a0c0305e82c3301") == "3f2504e04f8911d39a0c0305e82c3301")
        #expect(try Validation.session("a-b_" + String(repeating: "z", count: 60)).count == 64)
    }

    @Test("session refusals: 21 characters, 65 characters, dashes of a UUID are fine but dots are not")
    func sessionRefusals() {
        #expect(code { try Validation.session(String(repeating: "a", count: 21)) } == .sessionTooShort)
        #expect(code { try Validation.session("") } == .sessionTooShort)
        #expect(code { try Validation.session(String(repeating: "a", count: 65)) } == .sessionTooLong)
        #expect(code { try Validation.session("q83vEjRWeJCrze8SNFZ4k.") } == .sessionInvalidCharacter)
        #expect(code { try Validation.session("q83vEjRWeJCrze8SNFZ4k+") } == .sessionInvalidCharacter)
        #expect((try? Validation.session("3f2504e0-4f89-11d3-9a0c-0305e82c3301")) != nil)
    }

    // MARK: Client ids

    @Test("client ids: a UUID passes; empty, 65 characters and spaces are refused")
    func clientIds() throws {
        #expect(try Validation.clientId("3F2504E0-4F89-11D3-9A0C-0305E82C3301") == "3F2504E0-4F89-11D3-9A0C-0305E82C3301")
        #expect(try Validation.clientId(String(repeating: "c", count: 64)).count == 64)
        #expect(code { try Validation.clientId("") } == .clientIdEmpty)
        #expect(code { try Validation.clientId(String(repeating: "c", count: 65)) } == .clientIdTooLong)
        #expect(code { try Validation.clientId("a b") } == .clientIdInvalidCharacter)
    }

    // MARK: Text

    @Test("text is trimmed and line endings become newlines")
    func textTrimmed() throws {
        #expect(try Validation.text("  hello \n") == "hello")
        #expect(try Validation.text("a\r\nb\rc") == "a\nb\nc")
        #expect(try Validation.text("line one\nline two") == "line one\nline two")
        #expect(try Validation.text("\u{00A0}wide\u{3000}") == "wide")
    }

    @Test("text of 1 and 2,000 characters passes; 2,001 is refused")
    func textLengthBoundaries() throws {
        #expect(try Validation.text("x") == "x")
        #expect(try Validation.text(String(repeating: "x", count: 2_000)).count == 2_000)
        #expect(code { try Validation.text(String(repeating: "x", count: 2_001)) } == .textTooLong)
    }

    @Test("length counts grapheme clusters, not scalars or bytes")
    func textLengthGraphemes() throws {
        let family = "👨‍👩‍👧‍👦"  // 7 scalars, 25 UTF-8 bytes, one character
        let waving = "👋🏽"
        let flag = "🇳🇱"
        let accented = "e\u{0301}"
        for cluster in [family, waving, flag, accented] {
            #expect(cluster.count == 1)
            #expect(try Validation.text(String(repeating: cluster, count: 2_000)).count == 2_000)
            #expect(code { try Validation.text(String(repeating: cluster, count: 2_001)) } == .textTooLong)
        }
    }

    @Test("empty and whitespace-only text is refused")
    func textEmpty() {
        for empty in ["", " ", "\n\n", " \t ", "\u{00A0}"] {
            #expect(code { try Validation.text(empty) } == .textEmpty, "\(empty.unicodeScalars.map(\.value))")
        }
    }

    @Test("control characters other than newline are refused", arguments: [
        0x00, 0x01, 0x07, 0x08, 0x09, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F, 0x80, 0x85, 0x9B, 0x9F,
    ] as [UInt32])
    func textControls(value: UInt32) {
        let scalar = Unicode.Scalar(value)!
        let text = "a" + String(Character(scalar)) + "b"
        #expect(code { try Validation.text(text) } == .textControlCharacter)
    }

    @Test("a message about a control character names its code point")
    func textControlMessage() {
        do {
            _ = try Validation.text("a\u{1B}[31mred")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("U+001B"))
        }
    }

    @Test("printable neighbours of the control ranges pass")
    func textNonControls() throws {
        #expect(try Validation.text("a b~\u{A0}c\u{A1}") == "a b~\u{A0}c\u{A1}")
    }

    @Test("raw bytes are decoded strictly", arguments: [
        [0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x61, 0x80, 0x62],
    ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(code { try Validation.text(utf8: bytes) } == .invalidUTF8)
    }

    @Test("the UTF-8 refusal says where the bad sequence starts")
    func invalidUTF8Offset() {
        do {
            _ = try Validation.utf8(Array("hé".utf8) + [0xFF])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.message.contains("byte 3"))
        }
    }

    @Test("valid UTF-8 bytes decode")
    func validUTF8() throws {
        #expect(try Validation.text(utf8: Array("héllo 👋🏽".utf8)) == "héllo 👋🏽")
    }

    @Test("contiguous bytes (ASCII prefix skipped) and other collections get the same verdict", arguments: [
        ([], nil), (Array("plain ascii".utf8), nil), (Array("héllo 👋🏽".utf8), nil),
        (Array("ascii then ".utf8) + [0xC0, 0xAF], 11), (Array("abc".utf8) + [0xED, 0xA0, 0x80], 3),
        ([0xFF] + Array("abc".utf8), 0), (Array("ok é".utf8) + [0xC3], 5),
        (Array("é".utf8) + Array("abc".utf8) + [0xF4, 0x90, 0x80, 0x80], 5),
    ] as [([UInt8], Int?)])
    func utf8PathsAgree(bytes: [UInt8], offset: Int?) {
        #expect(Validation.illFormedUTF8Offset(bytes) == offset)
        #expect(Validation.illFormedUTF8Offset(bytes.lazy.map { $0 }) == offset, "the scalar decoder alone")
    }

    @Test("the offset of a bad sequence after an ASCII prefix counts the prefix")
    func utf8OffsetAfterASCII() {
        #expect(Validation.illFormedUTF8Offset(Array("abcd".utf8) + [0x80]) == 4)
        #expect(Validation.illFormedUTF8Offset(Array("ab".utf8) + Array("é".utf8) + [0xFF]) == 4)
        #expect(Validation.illFormedUTF8Offset(Array("abc".utf8)) == nil)
    }
}

