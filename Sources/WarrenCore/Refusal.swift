/// Why a request was refused: a stable machine code and a sentence a person can read.
///
/// Services send `message` back to the browser (in a login reply or an `error` event) and log
/// `code`. Codes are an open set of static members, so new ones do not break callers.
public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable, machine-readable reason.
    public var code: Code
    /// A sentence for the person who sent the request, naming what was wrong.
    public var message: String

    /// Creates a refusal.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(code.rawValue): \(message)" }

    /// A refusal's machine-readable reason, e.g. `text.tooLong`.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The code as sent on the wire.
        public var rawValue: String
        /// Wraps a raw code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The raw code.
        public var description: String { rawValue }

        /// The body is not JSON of the expected shape.
        public static let malformedRequest = Code(rawValue: "request.malformed")
        /// The body is larger than ``Limits/requestMaxBytes``.
        public static let requestTooLarge = Code(rawValue: "request.tooLarge")
        /// The bytes are not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "text.invalidUTF8")
        /// The login `action` is neither `login` nor `logout`.
        public static let unknownAction = Code(rawValue: "action.unknown")

        /// The login name is empty.
        public static let loginEmpty = Code(rawValue: "login.empty")
        /// The login name is longer than ``Limits/loginMaxLength``.
        public static let loginTooLong = Code(rawValue: "login.tooLong")
        /// The login name has a character outside `[A-Za-z0-9_.-]`.
        public static let loginInvalidCharacter = Code(rawValue: "login.invalidCharacter")
        /// The broker did not vouch for the login the request names (broker auth is on).
        public static let loginNotVouched = Code(rawValue: "login.notVouched")

        /// The session id is shorter than ``Limits/sessionMinLength``.
        public static let sessionTooShort = Code(rawValue: "session.tooShort")
        /// The session id is longer than ``Limits/sessionMaxLength``.
        public static let sessionTooLong = Code(rawValue: "session.tooLong")
        /// The session id has a character outside `[A-Za-z0-9_-]`.
        public static let sessionInvalidCharacter = Code(rawValue: "session.invalidCharacter")
        /// The service could not finish the request in time (the broker or a role behind it
        /// is overloaded or gone); the same request may be tried again later.
        public static let serviceBusy = Code(rawValue: "service.busy")

        /// The post is empty after trimming (or after removing `!pow` / `!rpc`).
        public static let textEmpty = Code(rawValue: "text.empty")
        /// The post is longer than ``Limits/textMaxCharacters``.
        public static let textTooLong = Code(rawValue: "text.tooLong")
        /// The post holds a control character other than newline.
        public static let textControlCharacter = Code(rawValue: "text.controlCharacter")

        /// The client id is empty.
        public static let clientIdEmpty = Code(rawValue: "clientId.empty")
        /// The client id is longer than ``Limits/clientIdMaxLength``.
        public static let clientIdTooLong = Code(rawValue: "clientId.tooLong")
        /// The client id has a character outside `[A-Za-z0-9_.-]`.
        public static let clientIdInvalidCharacter = Code(rawValue: "clientId.invalidCharacter")

        /// The topology prefix is not dot-separated `[A-Za-z0-9_-]{1,64}` segments.
        public static let prefixInvalid = Code(rawValue: "prefix.invalid")
    }
}
