/// Why an account request failed, in words a person can act on.
///
/// A failed sign-in never says whether the name exists: an unknown name and a wrong password
/// are the same ``Code/invalidCredentials``.
public struct AuthFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; open-ended. Its name is the `error` field of the JSON answer.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, e.g. `invalid_credentials`.
        public let name: String
        /// The request is not what the endpoint takes (not JSON, a field missing).
        public static let invalidRequest = Code(name: "invalid_request")
        /// The name is not a valid login name.
        public static let invalidName = Code(name: "invalid_name")
        /// The password breaks a rule.
        public static let weakPassword = Code(name: "weak_password")
        /// The name is registered already (in some case) or reserved.
        public static let nameTaken = Code(name: "name_taken")
        /// The name or the password is wrong.
        public static let invalidCredentials = Code(name: "invalid_credentials")
        /// Too many failures: try again after ``AuthFailure/retryAfter`` seconds.
        public static let throttled = Code(name: "too_many_attempts")
        /// The token is missing, invalid, expired or revoked.
        public static let invalidToken = Code(name: "invalid_token")
        /// A refresh token was used twice: every session of that sign-in is ended.
        public static let tokenReused = Code(name: "token_reused")
        /// The server is too busy checking other passwords: try again after
        /// ``AuthFailure/retryAfter`` seconds.
        public static let busy = Code(name: "busy")
        /// The account store failed.
        public static let unavailable = Code(name: "unavailable")
        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// One or two sentences for the person.
    public var message: String
    /// For ``Code/throttled`` and ``Code/busy``: seconds until the next try may succeed.
    public var retryAfter: Int64?

    /// Creates a failure.
    public init(_ code: Code, _ message: String, retryAfter: Int64? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// `invalid_credentials: The name or the password is wrong.`
    public var description: String { "\(code): \(message)" }

    static let invalidCredentials = AuthFailure(.invalidCredentials, "The name or the password is wrong.")
}
