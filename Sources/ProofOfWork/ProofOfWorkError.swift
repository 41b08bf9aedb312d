/// An error from solving or checking a proof of work: an opaque code plus a readable message.
public struct ProofOfWorkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as an open-ended set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String

        /// `bits` was outside 1...64.
        public static let invalidBits = Code(name: "invalidBits")
        /// The worker count was not positive.
        public static let invalidWorkerCount = Code(name: "invalidWorkerCount")
        /// The requested SHA-256 backend cannot run on this machine.
        public static let backendUnavailable = Code(name: "backendUnavailable")
        /// Every nonce was tried without a hit (only possible at very high difficulty).
        public static let nonceSpaceExhausted = Code(name: "nonceSpaceExhausted")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation with the offending values.
    public var message: String

    /// Creates an error with a code and a message.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// The range of difficulties that can be solved and verified.
    public static let bitsRange = 1...64

    static func checkBits(_ bits: Int) throws(ProofOfWorkError) {
        guard bitsRange.contains(bits) else {
            throw ProofOfWorkError(
                code: .invalidBits,
                message: "bits must be in \(bitsRange.lowerBound)...\(bitsRange.upperBound), got \(bits)"
            )
        }
    }
}
