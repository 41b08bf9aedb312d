/// The checks every request field passes before a service acts on it.
///
/// Each check returns the accepted value (normalised where that is documented) or throws a
/// ``Refusal`` whose message names the field, the problem and what is allowed.
public enum Validation {
    /// Checks a login name: 1 to 32 characters of `[A-Za-z0-9_.-]`.
    public static func login(_ login: String) throws(Refusal) -> String {
        let scalars = login.unicodeScalars
        if scalars.isEmpty {
            throw Refusal(.loginEmpty, "The login name is empty; choose 1 to \(Limits.loginMaxLength) characters.")
        }
        if let bad = scalars.first(where: { !isLoginScalar($0) }) {
            throw Refusal(
                .loginInvalidCharacter,
                "The login name contains \(describe(bad)); only letters A-Z and a-z, digits, '_', '.' and '-' are allowed."
            )
        }
        if scalars.count > Limits.loginMaxLength {
            throw Refusal(
                .loginTooLong,
                "The login name is \(scalars.count) characters long; at most \(Limits.loginMaxLength) are allowed."
            )
        }
        return login
    }

    /// Checks a session id: 22 to 64 characters of `[A-Za-z0-9_-]`.
    ///
    /// The id must carry at least 122 random bits. Two encodings fit: base64url (no padding) of
    /// 16 random bytes, which is 22 characters, and a random UUID written as 32 hex digits
    /// without dashes. Longer ids, up to 64 characters, are accepted too. Randomness itself
    /// cannot be checked here; the browser makes the id with `crypto.getRandomValues`.
    public static func session(_ session: String) throws(Refusal) -> String {
        let scalars = session.unicodeScalars
        if let bad = scalars.first(where: { !isSessionScalar($0) }) {
            throw Refusal(
                .sessionInvalidCharacter,
                "The session id contains \(describe(bad)); only letters A-Z and a-z, digits, '_' and '-' are allowed (base64url or hex)."
            )
        }
        if scalars.count < Limits.sessionMinLength {
            throw Refusal(
                .sessionTooShort,
                "The session id is \(scalars.count) characters long; it needs at least \(Limits.sessionMinLength) (16 random bytes in base64url, or a UUID as 32 hex digits)."
            )
        }
        if scalars.count > Limits.sessionMaxLength {
            throw Refusal(
                .sessionTooLong,
                "The session id is \(scalars.count) characters long; at most \(Limits.sessionMaxLength) are allowed."
            )
        }
        return session
    }

    /// Checks a client id: 1 to 64 characters of `[A-Za-z0-9_.-]`, such as a UUID.
    public static func clientId(_ clientId: String) throws(Refusal) -> String {
        let scalars = clientId.unicodeScalars
        if scalars.isEmpty {
            throw Refusal(.clientIdEmpty, "The client id is empty; send a UUID.")
        }
        if let bad = scalars.first(where: { !isLoginScalar($0) }) {
            throw Refusal(
                .clientIdInvalidCharacter,
                "The client id contains \(describe(bad)); only letters, digits, '_', '.' and '-' are allowed."
            )
        }
        if scalars.count > Limits.clientIdMaxLength {
            throw Refusal(
                .clientIdTooLong,
                "The client id is \(scalars.count) characters long; at most \(Limits.clientIdMaxLength) are allowed."
            )
        }
        return clientId
    }

    /// Decodes bytes as UTF-8, strictly: any ill-formed sequence is refused, never repaired.
    public static func utf8<Bytes: Collection>(_ bytes: Bytes) throws(Refusal) -> String
    where Bytes.Element == UInt8 {
        try checkUTF8(bytes)
        // Well-formed, so nothing is repaired.
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Refuses bytes that are not well-formed UTF-8, without making a string of them.
    public static func checkUTF8<Bytes: Collection>(_ bytes: Bytes) throws(Refusal) where Bytes.Element == UInt8 {
        if let offset = illFormedUTF8Offset(bytes) {
            throw Refusal(.invalidUTF8, "The text is not valid UTF-8 (bad byte sequence at byte \(offset)).")
        }
    }

    /// Where the first ill-formed UTF-8 sequence starts, nil when there is none. Contiguous
    /// bytes skip their ASCII prefix (most JSON is all ASCII) before the scalar decoder.
    static func illFormedUTF8Offset<Bytes: Collection>(_ bytes: Bytes) -> Int? where Bytes.Element == UInt8 {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer -> Int? in
            var ascii = 0
            while ascii < buffer.count, buffer[ascii] < 0x80 { ascii += 1 }
            if ascii == buffer.count { return nil }
            return scanUTF8(buffer[ascii...]).map { ascii + $0 }
        }
        return contiguous ?? scanUTF8(bytes)
    }

    /// The scalar decoder's verdict: Unicode.UTF8 refuses overlong forms, surrogates and
    /// values past U+10FFFF (and, unlike String(validating:), needs no macOS 15).
    private static func scanUTF8<Bytes: Collection>(_ bytes: Bytes) -> Int? where Bytes.Element == UInt8 {
        var decoder = Unicode.UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// Checks the text of a post and returns it normalised.
    ///
    /// Line endings `\r\n` and `\r` become `\n`; leading and trailing whitespace is trimmed.
    /// The rest must be 1 to 2,000 characters (grapheme clusters, so "👋🏽" counts once) with
    /// no control characters but newline: tab, the other C0 controls, DEL and the C1 controls
    /// are refused.
    public static func text(_ text: String) throws(Refusal) -> String {
        let trimmed = trimWhitespace(normaliseLineEndings(text))
        try checkControls(trimmed)
        return try checkLength(trimmed)
    }

    /// Checks the raw UTF-8 bytes of a post's text; see ``text(_:)``.
    public static func text<Bytes: Collection>(utf8 bytes: Bytes) throws(Refusal) -> String
    where Bytes.Element == UInt8 {
        try text(utf8(bytes))
    }

    // MARK: - Pieces shared with routing

    /// Refuses empty or over-long text; the text is assumed trimmed.
    static func checkLength(_ text: String) throws(Refusal) -> String {
        if text.isEmpty {
            throw Refusal(.textEmpty, "The post is empty; write at least one character.")
        }
        let count = text.count
        if count > Limits.textMaxCharacters {
            throw Refusal(
                .textTooLong,
                "The post is \(count) characters long; at most \(Limits.textMaxCharacters) are allowed."
            )
        }
        return text
    }

    /// Refuses C0 controls but newline, DEL and C1 controls.
    static func checkControls(_ text: String) throws(Refusal) {
        if let bad = text.unicodeScalars.first(where: isForbiddenControl) {
            throw Refusal(
                .textControlCharacter,
                "The post contains the control character \(describe(bad)); only newline is allowed."
            )
        }
    }

    /// Trims leading and trailing whitespace characters (Unicode's definition).
    static func trimWhitespace(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = text.lastIndex(where: { !$0.isWhitespace })!
        return String(text[first...last])
    }

    static func normaliseLineEndings(_ text: String) -> String {
        guard text.unicodeScalars.contains("\r") else { return text }
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\r" {
                scalars.append("\n")
                previousWasCR = true
            } else {
                if !(scalar == "\n" && previousWasCR) { scalars.append(scalar) }
                previousWasCR = false
            }
        }
        return String(scalars)
    }

    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value == 0x0A { return false }
        return value < 0x20 || (0x7F...0x9F).contains(value)
    }

    static func isLoginScalar(_ scalar: Unicode.Scalar) -> Bool {
        isASCIIAlphanumeric(scalar) || scalar == "_" || scalar == "." || scalar == "-"
    }

    static func isSessionScalar(_ scalar: Unicode.Scalar) -> Bool {
        isASCIIAlphanumeric(scalar) || scalar == "_" || scalar == "-"
    }

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }

    /// `' '` for printable characters, `U+0009` for the rest, so a message never carries the
    /// invisible character it complains about.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace {
            return code
        }
        return "'\(scalar)' (\(code))"
    }
}
