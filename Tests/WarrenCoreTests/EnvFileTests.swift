import Testing
@testable import WarrenCore

@Suite(".env parsing")
struct EnvFileTests {
    @Test("keys, values, comments, blank lines and export")
    func basics() {
        let file = EnvFile.parse("""
            # Warren settings
            WARREN_HTTP_PORT=9090

            export WARREN_PREFIX=staging
              WARREN_POW_BITS = 20   # easier for demos
            WARREN_CRON_TEXT=Hello#world
            EMPTY=
            """)
        #expect(file.issues.isEmpty)
        #expect(file.values == [
            "WARREN_HTTP_PORT": "9090", "WARREN_PREFIX": "staging", "WARREN_POW_BITS": "20",
            "WARREN_CRON_TEXT": "Hello#world", "EMPTY": "",
        ])
        #expect(file.lines["WARREN_HTTP_PORT"] == 2)
        #expect(file.lines["WARREN_POW_BITS"] == 5)
    }

    @Test("double quotes take escapes; single quotes are literal")
    func quotes() {
        let file = EnvFile.parse(#"""
            A="Hello\nworld \"quoted\" \\ \$HOME \q"
            B='Hello\nworld "as is" $HOME'
            C="  spaced  "  # comment
            D='#not a comment'
            E="multi
            line"
            F=after
            """#)
        #expect(file.issues.isEmpty)
        #expect(file.values["A"] == "Hello\nworld \"quoted\" \\ $HOME \\q")
        #expect(file.values["B"] == #"Hello\nworld "as is" $HOME"#)
        #expect(file.values["C"] == "  spaced  ")
        #expect(file.values["D"] == "#not a comment")
        #expect(file.values["E"] == "multi\nline")
        #expect(file.values["F"] == "after")
        #expect(file.lines["F"] == 7)
    }

    @Test("Windows line endings and a later setting winning")
    func crlfAndDuplicates() {
        let file = EnvFile.parse("A=1\r\nB=2\r\nA=3\r\n")
        #expect(file.issues.isEmpty)
        #expect(file.values == ["A": "3", "B": "2"])
        #expect(file.lines["A"] == 3)
    }

    @Test("a key named export still works")
    func exportAsKey() {
        #expect(EnvFile.parse("export=1").values == ["export": "1"])
    }

    @Test("problems are collected with line numbers, and good lines still count")
    func issues() {
        let file = EnvFile.parse("""
            GOOD=1
            no equals here
            1BAD=2
            OPEN="never closed
            """)
        #expect(file.values == ["GOOD": "1"])
        #expect(file.issues.map(\.line) == [2, 3, 4])
        #expect(file.issues[0].description.hasPrefix(".env line 2: "))
        #expect(file.issues[2].message.contains("never closed"))
    }

    @Test("text after a closing quote is a problem")
    func trailingText() {
        let file = EnvFile.parse("A=\"x\" y\nB='z' # ok")
        #expect(file.values == ["B": "z"])
        #expect(file.issues.map(\.line) == [1])
    }
}
