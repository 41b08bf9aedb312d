import Testing
@testable import WarrenCore

@Suite("Grapheme reversal")
struct ReverseTests {
    @Test("reverses by character, keeping clusters whole", arguments: [
        ("", ""),
        ("abc", "cba"),
        ("héllo 👋🏽", "👋🏽 olléh"),
        ("he\u{0301}llo", "olle\u{0301}h"),
        ("🇳🇱🇯🇵", "🇯🇵🇳🇱"),
        ("a👨‍👩‍👧‍👦b", "b👨‍👩‍👧‍👦a"),
        ("🏳️‍🌈!", "!🏳️‍🌈"),
        ("x\r\ny", "y\r\nx"),
        ("한국어", "어국한"),
        ("\u{1112}\u{1161}\u{11AB}a", "a\u{1112}\u{1161}\u{11AB}"),
    ])
    func reversal(input: String, expected: String) {
        #expect(reversed(input) == expected)
        #expect(reversed(input).unicodeScalars.count == input.unicodeScalars.count)
    }

    @Test("the skin-tone modifier stays after its hand")
    func skinTone() {
        let result = reversed("héllo 👋🏽")
        #expect(result.unicodeScalars.first == "\u{1F44B}")
        #expect(result != "🏽👋 olléh")
    }

    @Test("reversing twice gives the text back")
    func involution() {
        let text = "Zoë 👩🏾‍💻 says 🇧🇪 é\u{0301}!"
        #expect(reversed(reversed(text)) == text)
    }
}
