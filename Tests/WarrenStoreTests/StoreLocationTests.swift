import Testing

@testable import WarrenStore

@Suite("Store URLs")
struct StoreLocationTests {
    @Test("sqlite: paths, relative and absolute")
    func sqlite() throws {
        #expect(try StoreLocation(parsing: "sqlite:.warren/warren.sqlite") == .sqlite(path: ".warren/warren.sqlite"))
        #expect(try StoreLocation(parsing: "sqlite:/var/lib/w.sqlite") == .sqlite(path: "/var/lib/w.sqlite"))
        #expect(try StoreLocation(parsing: "sqlite:///var/lib/w.sqlite") == .sqlite(path: "/var/lib/w.sqlite"))
    }

    @Test("postgres:// with percent-encoded parts and a default port")
    func postgres() throws {
        let location = try StoreLocation(parsing: "postgres://war%40ren:p%3As%2Fs%20w@127.0.0.1:55432/warren%5Fdb")
        #expect(location == .postgres(.init(user: "war@ren", password: "p:s/s w", host: "127.0.0.1", port: 55432, database: "warren_db")))
        #expect(location.description == "postgres://war@ren:***@127.0.0.1:55432/warren_db")
        #expect(
            try StoreLocation(parsing: "postgresql://u:p@db.example/chat")
                == .postgres(.init(user: "u", password: "p", host: "db.example", port: 5432, database: "chat")))
        #expect(
            try StoreLocation(parsing: "postgres://u@localhost:5433/chat")
                == .postgres(.init(user: "u", password: "", host: "localhost", port: 5433, database: "chat")))
    }

    @Test(
        "anything else is refused with a clear error",
        arguments: [
            "", "sqlite:", "mysql://u:p@h/db", "postgres://h:5432/db", "postgres://u:p@h:5432/", "postgres://u:p@h:99999/db",
            "postgres://u:p@/db", "postgres://u:p@h/db?sslmode=require", "postgres://u:p@h/a/b", "warren.sqlite",
        ]
    )
    func refused(url: String) {
        #expect(throws: StoreError.self) { try StoreLocation(parsing: url) }
    }

    @Test("a refused URL's error does not show its password")
    func redacted() {
        #expect(throws: StoreError.unsupportedURL("postgres://u:***@h:5432/")) {
            try StoreLocation(parsing: "postgres://u:secret@h:5432/")
        }
    }
}

@Suite("Search words")
struct SearchWordsTests {
    @Test("operators and quotes only separate words")
    func words() {
        let words = SearchWords("he said \"hi\" OR -bye* (x:y) NEAR/2 ^a")
        #expect(words.words == ["he", "said", "hi", "OR", "bye", "x", "y", "NEAR", "2", "a"])
        #expect(words.fts5Query == "\"he\" \"said\" \"hi\" \"OR\" \"bye\" \"x\" \"y\" \"NEAR\" \"2\" \"a\"")
        #expect(words.plainText == "he said hi OR bye x y NEAR 2 a")
    }

    @Test("letters of any script, with their marks, are words")
    func unicode() {
        #expect(SearchWords("Grüße, 日本語! cafe\u{301}").words == ["Grüße", "日本語", "cafe\u{301}"])
        #expect(SearchWords("🎉 -- \"\" *").isEmpty)
    }

    @Test("at most the first 32 words count")
    func bounded() {
        #expect(SearchWords((0..<100).map { "w\($0)" }.joined(separator: " ")).words.count == SearchWords.maximumWords)
    }
}
