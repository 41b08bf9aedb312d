/// An error from encoding or decoding AMQP 0-9-1 wire data.
///
/// The ``code-swift.property`` says what went wrong; ``replyCode`` is the AMQP reply code a client
/// should close the connection with, where the spec has one (501 frame-error, 502 syntax-error,
/// 503 command-invalid, 505 unexpected-frame). Class and method ids name the method being
/// coded, when there is one.
public struct AMQPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. Open-ended: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case protocolVersionMismatch
            case invalidProtocolHeader
            case frameTooLarge
            case invalidFrameEnd
            case unknownFrameType
            case unexpectedFrame
            case invalidHeartbeat
            case unknownMethod
            case truncated
            case trailingBytes
            case lengthOutOfBounds
            case unknownFieldType
            case nestingTooDeep
            case invalidPropertyFlags
            case unknownContentClass
            case valueTooLong
            case invalidFrameMax
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The peer answered with a different protocol header (it speaks another version).
        public static let protocolVersionMismatch = Code(.protocolVersionMismatch)
        /// Bytes that should be a protocol header do not start with `AMQP`.
        public static let invalidProtocolHeader = Code(.invalidProtocolHeader)
        /// A frame is larger than the negotiated frame-max or the hard size limit.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// A frame does not end with the frame-end octet 0xCE.
        public static let invalidFrameEnd = Code(.invalidFrameEnd)
        /// A frame type other than method (1), header (2), body (3) or heartbeat (8).
        public static let unknownFrameType = Code(.unknownFrameType)
        /// A frame where it is not allowed, e.g. a heartbeat on a non-zero channel.
        public static let unexpectedFrame = Code(.unexpectedFrame)
        /// A heartbeat frame with a non-empty payload.
        public static let invalidHeartbeat = Code(.invalidHeartbeat)
        /// A class id and method id pair this codec does not know.
        public static let unknownMethod = Code(.unknownMethod)
        /// A payload ends before a value it declares is complete.
        public static let truncated = Code(.truncated)
        /// A method payload has bytes left after its last argument.
        public static let trailingBytes = Code(.trailingBytes)
        /// A length field (string, table, array) claims more bytes than its container holds.
        public static let lengthOutOfBounds = Code(.lengthOutOfBounds)
        /// A field-table value has a type tag this codec does not know.
        public static let unknownFieldType = Code(.unknownFieldType)
        /// Field tables or arrays are nested deeper than the decoder allows.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// Content-header property flags use the continuation bit or an undefined bit.
        public static let invalidPropertyFlags = Code(.invalidPropertyFlags)
        /// A content header for a class other than basic (60).
        public static let unknownContentClass = Code(.unknownContentClass)
        /// A value is too long for its length field, e.g. a short string over 255 bytes.
        public static let valueTooLong = Code(.valueTooLong)
        /// A frame-max too small to carry any body byte (1 to 8).
        public static let invalidFrameMax = Code(.invalidFrameMax)

        /// The code's name.
        public var description: String {
            self.base.rawValue
        }
    }

    /// What went wrong.
    public var code: Code
    /// The AMQP reply code to close the connection with, if the spec has one for this fault.
    public var replyCode: ReplyCode?
    /// The class id of the method being coded, if any.
    public var classID: UInt16?
    /// The method id of the method being coded, if any.
    public var methodID: UInt16?
    /// A human-readable account of the fault, for logs.
    public var message: String

    /// Creates an error.
    public init(
        code: Code,
        replyCode: ReplyCode? = nil,
        classID: UInt16? = nil,
        methodID: UInt16? = nil,
        message: String
    ) {
        self.code = code
        self.replyCode = replyCode
        self.classID = classID
        self.methodID = methodID
        self.message = message
    }

    /// The code, reply code, ids and message in one line.
    public var description: String {
        var text = "AMQPProtocolError(\(self.code)"
        if let replyCode = self.replyCode {
            text += ", reply code \(replyCode)"
        }
        if let classID = self.classID, let methodID = self.methodID {
            text += ", method \(classID).\(methodID)"
        }
        return text + "): \(self.message)"
    }
}

extension AMQPProtocolError {
    static func truncated(_ what: String) -> Self {
        Self(code: .truncated, replyCode: .syntaxError, message: "payload ends inside \(what)")
    }

    static func lengthOutOfBounds(_ what: String, length: Int, available: Int) -> Self {
        Self(
            code: .lengthOutOfBounds,
            replyCode: .syntaxError,
            message: "\(what) claims \(length) bytes but only \(available) remain"
        )
    }

    static func unknownMethod(classID: UInt16, methodID: UInt16) -> Self {
        Self(
            code: .unknownMethod,
            replyCode: .commandInvalid,
            classID: classID,
            methodID: methodID,
            message: "unknown method \(classID).\(methodID)"
        )
    }

    static func valueTooLong(_ field: String, length: Int, limit: Int) -> Self {
        Self(code: .valueTooLong, message: "\(field) is \(length) bytes; at most \(limit) fit")
    }
}
