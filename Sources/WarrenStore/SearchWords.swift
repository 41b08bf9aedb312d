/// The words of a search as a person typed it, turned into each backend's query without ever
/// letting the text act as query syntax.
///
/// A word is a run of letters, digits (and marks joined to them); everything else — quotes,
/// `*`, `-`, parentheses, `:` — only separates words. `OR`, `AND`, `NOT` and `NEAR` are plain
/// words. Every word must occur, in any order.
struct SearchWords: Sendable, Hashable {
    /// The words, in the order typed; at most ``maximumWords``.
    let words: [String]

    /// More words than this are ignored: a query is typed by a person, not generated.
    static let maximumWords = 32

    /// Splits `text` into words.
    init(_ text: String) {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty, words.count < Self.maximumWords { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil
                || (!current.isEmpty && properties.generalCategory == .nonspacingMark)
            {
                current.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        self.words = words
    }

    /// True when there is nothing to look for.
    var isEmpty: Bool { words.isEmpty }

    /// An FTS5 MATCH expression: each word a double-quoted string (so FTS5 reads it as a plain
    /// phrase, never an operator), joined by spaces (FTS5's implicit AND).
    var fts5Query: String {
        words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }

    /// Text for PostgreSQL's `plainto_tsquery`, which reads only words and ANDs them.
    var plainText: String { words.joined(separator: " ") }
}
