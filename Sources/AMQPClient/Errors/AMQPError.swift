import AMQPProtocol

/// An error from the AMQP client: what went wrong (``code-swift.property``) plus the broker's
/// reply code and text, and the class and method ids the broker blamed, when there are any.
public struct AMQPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. Open-ended: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionClosed, channelClosed, accessRefused, notFound, preconditionFailed
            case resourceLocked, consumerCancelled, timeout, publishNacked, unroutable
            case connectionBlockedTimeout, frameTooLarge, protocolError, invalidConfiguration
            case connectionFailed, heartbeatTimeout, channelLimitReached, unsupported, notAllowed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The connection is closed (by us, by the broker or by the network).
        public static let connectionClosed = Code(.connectionClosed)
        /// The channel is closed (by us or by the broker).
        public static let channelClosed = Code(.channelClosed)
        /// The broker refused access (403): a wrong user or password, or no rights on the vhost or resource.
        public static let accessRefused = Code(.accessRefused)
        /// The broker does not know the queue, exchange or vhost (404, or 530 for a vhost).
        public static let notFound = Code(.notFound)
        /// The broker refused a request for a failed precondition (406), e.g. an inequivalent redeclare.
        public static let preconditionFailed = Code(.preconditionFailed)
        /// The resource is locked (405), e.g. an exclusive queue of another connection.
        public static let resourceLocked = Code(.resourceLocked)
        /// The broker cancelled the consumer (`basic.cancel`), e.g. because its queue was deleted.
        public static let consumerCancelled = Code(.consumerCancelled)
        /// An operation did not finish in time.
        public static let timeout = Code(.timeout)
        /// The broker answered a publish with `basic.nack`.
        public static let publishNacked = Code(.publishNacked)
        /// A mandatory message could not be routed (312 NO_ROUTE). Reserved: returned messages
        /// currently arrive on ``AMQPChannel/returns`` and the publish itself succeeds.
        public static let unroutable = Code(.unroutable)
        /// The broker blocked the connection (`connection.blocked`) for longer than the publish timeout.
        public static let connectionBlockedTimeout = Code(.connectionBlockedTimeout)
        /// A frame is larger than the negotiated frame-max.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// The peer broke the protocol (a malformed or unexpected frame).
        public static let protocolError = Code(.protocolError)
        /// The configuration or URL is not valid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The TCP or TLS connection could not be made.
        public static let connectionFailed = Code(.connectionFailed)
        /// The broker sent nothing for two heartbeat intervals.
        public static let heartbeatTimeout = Code(.heartbeatTimeout)
        /// Every channel id the connection may use is taken.
        public static let channelLimitReached = Code(.channelLimitReached)
        /// The broker does not support what was asked (e.g. no PLAIN mechanism; 540).
        public static let unsupported = Code(.unsupported)
        /// The broker does not allow the operation (530), e.g. a vhost the user may not open.
        public static let notAllowed = Code(.notAllowed)

        /// The code's name.
        public var description: String {
            self.base.rawValue
        }
    }

    /// What went wrong.
    public var code: Code
    /// The AMQP reply code the broker (or we) closed with, if any.
    public var replyCode: UInt16?
    /// The reply text that came with ``replyCode``.
    public var replyText: String?
    /// The class id of the method the broker blamed, if any (0 when none).
    public var classID: UInt16?
    /// The method id of the method the broker blamed, if any (0 when none).
    public var methodID: UInt16?
    /// A human-readable account, for logs.
    public var message: String

    /// Creates an error.
    public init(
        code: Code,
        replyCode: UInt16? = nil,
        replyText: String? = nil,
        classID: UInt16? = nil,
        methodID: UInt16? = nil,
        message: String
    ) {
        self.code = code
        self.replyCode = replyCode
        self.replyText = replyText
        self.classID = classID
        self.methodID = methodID
        self.message = message
    }

    /// The code, reply code and text, ids and message in one line.
    public var description: String {
        var text = "AMQPError(\(self.code)"
        if let replyCode = self.replyCode {
            text += ", reply \(replyCode)"
            if let replyText = self.replyText, !replyText.isEmpty { text += " \(replyText)" }
        }
        if let classID = self.classID, let methodID = self.methodID, classID != 0 {
            text += ", method \(classID).\(methodID)"
        }
        return text + "): \(self.message)"
    }
}

extension AMQPError {
    /// The code a broker reply code maps to when the broker closes a channel or connection with it.
    static func code(forReplyCode replyCode: UInt16, connectionLevel: Bool) -> Code {
        switch ReplyCode(replyCode) {
        case .accessRefused: .accessRefused
        case .notFound: .notFound
        case .preconditionFailed: .preconditionFailed
        case .resourceLocked: .resourceLocked
        case .notAllowed: .notAllowed
        case .notImplemented: .unsupported
        case .frameError, .syntaxError, .commandInvalid, .channelError, .unexpectedFrame: .protocolError
        default: connectionLevel ? .connectionClosed : .channelClosed
        }
    }

    /// The error for a `connection.close` the broker sent.
    static func brokerClosedConnection(replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16) -> AMQPError {
        AMQPError(
            code: Self.code(forReplyCode: replyCode, connectionLevel: true),
            replyCode: replyCode,
            replyText: replyText,
            classID: classID,
            methodID: methodID,
            message: "the broker closed the connection: \(replyCode) \(replyText)"
        )
    }

    /// The error for a `channel.close` the broker sent.
    static func brokerClosedChannel(channelID: UInt16, replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16) -> AMQPError {
        AMQPError(
            code: Self.code(forReplyCode: replyCode, connectionLevel: false),
            replyCode: replyCode,
            replyText: replyText,
            classID: classID,
            methodID: methodID,
            message: "the broker closed channel \(channelID): \(replyCode) \(replyText)"
        )
    }

    /// Wraps a codec error, keeping its reply code.
    init(protocolError: AMQPProtocolError) {
        self.init(
            code: protocolError.code == .frameTooLarge ? .frameTooLarge : .protocolError,
            replyCode: protocolError.replyCode?.rawValue,
            classID: protocolError.classID,
            methodID: protocolError.methodID,
            message: protocolError.message
        )
    }

    static func connectionClosed(_ message: String = "the connection is closed") -> AMQPError {
        AMQPError(code: .connectionClosed, message: message)
    }

    static func channelClosed(_ channelID: UInt16) -> AMQPError {
        AMQPError(code: .channelClosed, message: "channel \(channelID) is closed")
    }
}
