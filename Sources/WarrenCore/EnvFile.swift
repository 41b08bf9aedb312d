/// The variables of a `.env` file, read from its text (reading the file is the caller's job).
///
/// Each line is `KEY=VALUE`, optionally after `export `. Blank lines and lines starting with
/// `#` are skipped. Values may be:
/// - unquoted: up to the end of the line, trimmed, with a ` #` comment removed;
/// - in single quotes: taken literally, newlines included;
/// - in double quotes: with escapes `\n`, `\r`, `\t`, `\"`, `\\` and `\$`, newlines included.
///
/// No `${VAR}` expansion is done. A later line for the same key wins. Problems are collected
/// in ``issues`` with their line numbers rather than stopping the parse.
public struct EnvFile: Sendable, Hashable {
    /// The variables, by key.
    public var values: [String: String]
    /// The line each variable was set on (its last setting).
    public var lines: [String: Int]
    /// Lines that could not be read.
    public var issues: [Issue]

    /// A line that could not be read, and why.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// The 1-based line number.
        public var line: Int
        /// What is wrong.
        public var message: String

        /// Creates an issue.
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        /// `.env line N: message`.
        public var description: String { ".env line \(line): \(message)" }
    }

    /// Parses the text of a `.env` file.
    public static func parse(_ contents: String) -> EnvFile {
        var parser = Parser(Array(contents.unicodeScalars))
        parser.run()
        return EnvFile(values: parser.values, lines: parser.lines, issues: parser.issues)
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var values: [String: String] = [:]
        var lines: [String: Int] = [:]
        var issues: [Issue] = []

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        static func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }
        static func isNewline(_ scalar: Unicode.Scalar) -> Bool { scalar == "\n" || scalar == "\r" }
        static func isKeyStart(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || (scalar.isASCII && scalar.properties.isAlphabetic)
        }
        static func isKey(_ scalar: Unicode.Scalar) -> Bool {
            isKeyStart(scalar) || ("0"..."9").contains(scalar)
        }

        mutating func skipBlanks() {
            while let scalar = current, Parser.isBlank(scalar) { index += 1 }
        }

        /// Consumes one line ending (`\n`, `\r\n` or `\r`).
        mutating func consumeNewline() {
            if current == "\r" { index += 1 }
            if current == "\n" { index += 1 }
            line += 1
        }

        mutating func skipRestOfLine() {
            while let scalar = current, !Parser.isNewline(scalar) { index += 1 }
        }

        mutating func issue(_ message: String, line: Int? = nil) {
            issues.append(Issue(line: line ?? self.line, message: message))
        }

        mutating func run() {
            while index < scalars.count {
                skipBlanks()
                guard let scalar = current else { break }
                if Parser.isNewline(scalar) {
                    consumeNewline()
                } else if scalar == "#" {
                    skipRestOfLine()
                } else {
                    readAssignment()
                }
            }
        }

        mutating func readKey() -> String {
            var key = String.UnicodeScalarView()
            if let scalar = current, Parser.isKeyStart(scalar) {
                while let scalar = current, Parser.isKey(scalar) {
                    key.append(scalar)
                    index += 1
                }
            }
            return String(key)
        }

        mutating func readAssignment() {
            let startLine = line
            var key = readKey()
            if key == "export", let scalar = current, Parser.isBlank(scalar) {
                skipBlanks()
                key = readKey()
            }
            if key.isEmpty {
                issue("expected KEY=VALUE, where KEY is letters, digits and '_', not starting with a digit")
                skipRestOfLine()
                return
            }
            skipBlanks()
            guard current == "=" else {
                issue("\"\(key)\" is not followed by '='; expected \(key)=VALUE")
                skipRestOfLine()
                return
            }
            index += 1
            skipBlanks()
            let value: String?
            switch current {
            case "\"": value = readDoubleQuoted(key: key, startLine: startLine)
            case "'": value = readSingleQuoted(key: key, startLine: startLine)
            default: value = readUnquoted()
            }
            guard let value else { return }
            values[key] = value
            lines[key] = startLine
        }

        mutating func readUnquoted() -> String {
            var text = String.UnicodeScalarView()
            var previousBlank = true
            while let scalar = current, !Parser.isNewline(scalar) {
                // A '#' after whitespace starts a comment; inside a word it is part of the value.
                if scalar == "#", previousBlank {
                    skipRestOfLine()
                    break
                }
                previousBlank = Parser.isBlank(scalar)
                text.append(scalar)
                index += 1
            }
            while let last = text.last, Parser.isBlank(last) { text.removeLast() }
            return String(text)
        }

        mutating func readSingleQuoted(key: String, startLine: Int) -> String? {
            index += 1
            var text = String.UnicodeScalarView()
            while let scalar = current {
                if scalar == "'" {
                    index += 1
                    return finishQuoted(String(text), key: key)
                }
                if scalar == "\n" { line += 1 }
                text.append(scalar)
                index += 1
            }
            issue("the single-quoted value of \(key) is never closed", line: startLine)
            return nil
        }

        mutating func readDoubleQuoted(key: String, startLine: Int) -> String? {
            index += 1
            var text = String.UnicodeScalarView()
            while let scalar = current {
                index += 1
                switch scalar {
                case "\"":
                    return finishQuoted(String(text), key: key)
                case "\\":
                    guard let escaped = current else { continue }
                    index += 1
                    switch escaped {
                    case "n": text.append("\n")
                    case "r": text.append("\r")
                    case "t": text.append("\t")
                    case "\"", "\\", "$": text.append(escaped)
                    default:
                        // Unknown escapes are kept as written, as most dotenv readers do.
                        text.append("\\")
                        text.append(escaped)
                    }
                default:
                    if scalar == "\n" { line += 1 }
                    text.append(scalar)
                }
            }
            issue("the double-quoted value of \(key) is never closed", line: startLine)
            return nil
        }

        /// After a closing quote only blanks and a comment may follow.
        mutating func finishQuoted(_ value: String, key: String) -> String? {
            skipBlanks()
            guard let scalar = current, !Parser.isNewline(scalar), scalar != "#" else {
                skipRestOfLine()
                return value
            }
            issue("unexpected text after the closing quote of \(key)'s value")
            skipRestOfLine()
            return nil
        }
    }
}
