import AMQPProtocol
import NIOCore

/// The connection-level protocol (channel 0) as a pure state machine: the handshake, tune
/// negotiation, the close handshake in both directions, blocked/unblocked and heartbeats.
///
/// Events are named in the past tense and return an ``Action`` to run; the machine does no I/O
/// and reads no clock (times are passed in as nanoseconds of a monotonic clock), so it is
/// tested without a network.
struct ConnectionStateMachine {
    /// What the handshake settled on.
    struct Negotiated: Equatable, Sendable {
        /// The largest frame either side may send; 0 means no limit.
        var frameMax: UInt32
        /// The highest channel id we may use (never 0 here: 0 from both sides means 65535).
        var channelMax: UInt16
        /// The heartbeat interval in seconds; 0 means none.
        var heartbeat: UInt16
    }

    /// What the handler must do after an event.
    enum Action: Equatable {
        /// Nothing to do.
        case none
        /// Write the 8-byte protocol header.
        case sendProtocolHeader
        /// Write `connection.start-ok`.
        case sendStartOK(Method.Connection.StartOK)
        /// Write `connection.tune-ok` and `connection.open`, and apply the negotiated limits.
        case sendTuneOKAndOpen(Method.Connection.TuneOK, Method.Connection.Open, Negotiated)
        /// The connection is open: complete the connect promise and start the heartbeat timer.
        case fireConnected(Negotiated)
        /// Write `connection.close` (we are closing, politely or because of `error`), then wait
        /// for `close-ok`; fail everything in flight with `error` if there is one.
        case sendClose(Method.Connection.Close, error: AMQPError?)
        /// Write `connection.close-ok`, then close the socket and fail everything with the error.
        case sendCloseOKAndCloseSocket(AMQPError)
        /// Close the socket; fail everything in flight with the error, if any.
        case closeSocket(AMQPError?)
        /// Write a heartbeat frame.
        case sendHeartbeat
        /// The broker blocked publishing (`connection.blocked`) for the given reason.
        case fireBlocked(String)
        /// The broker unblocked publishing.
        case fireUnblocked
        /// Everything has been torn down; tell whoever waits on the connection.
        case fireClosed(AMQPError?)
    }

    private enum State {
        case initialized
        case protocolHeaderSent
        case startOKSent
        case openSent(Negotiated)
        case open(Negotiated)
        /// We sent `connection.close`; the error is what everything was failed with.
        case closing(AMQPError?)
        case closed
    }

    private var state: State = .initialized
    var heartbeatState = HeartbeatState()
    private let configuration: Configuration

    /// The parts of ``AMQPConfiguration`` the handshake needs.
    struct Configuration: Sendable {
        var user: String
        var password: String
        var virtualHost: String
        var heartbeat: UInt16
        var frameMax: UInt32
        var channelMax: UInt16
        var connectionName: String?

        init(_ configuration: AMQPConfiguration) {
            self.user = configuration.user
            self.password = configuration.password
            self.virtualHost = configuration.virtualHost
            self.heartbeat = configuration.heartbeat
            self.frameMax = configuration.frameMax
            self.channelMax = configuration.channelMax
            self.connectionName = configuration.connectionName
        }

        init(user: String, password: String, virtualHost: String, heartbeat: UInt16, frameMax: UInt32, channelMax: UInt16, connectionName: String? = nil) {
            self.user = user
            self.password = password
            self.virtualHost = virtualHost
            self.heartbeat = heartbeat
            self.frameMax = frameMax
            self.channelMax = channelMax
            self.connectionName = connectionName
        }
    }

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The negotiated limits, once tune is done.
    var negotiated: Negotiated? {
        switch self.state {
        case .openSent(let negotiated), .open(let negotiated): negotiated
        default: nil
        }
    }

    /// Whether channel frames may flow (the connection is open and not closing).
    var isOpen: Bool {
        if case .open = self.state { return true }
        return false
    }

    /// Whether the connection has finished closing.
    var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    // MARK: Handshake

    /// The TCP (and TLS) connection is up.
    mutating func connected(now: UInt64) -> Action {
        guard case .initialized = self.state else { preconditionFailure("connected twice") }
        self.state = .protocolHeaderSent
        self.heartbeatState.bytesReceived(now: now)
        self.heartbeatState.bytesWritten(now: now)
        return .sendProtocolHeader
    }

    /// `connection.start` arrived.
    mutating func startReceived(_ start: Method.Connection.Start) -> Action {
        guard case .protocolHeaderSent = self.state else {
            return self.protocolViolation("connection.start after the handshake began", replyCode: .unexpectedFrame, start.method)
        }
        let mechanisms = String(buffer: start.mechanisms).split(separator: " ")
        guard mechanisms.contains("PLAIN") else {
            return self.fail(AMQPError(code: .unsupported, message: "the broker does not offer PLAIN authentication (offers: \(String(buffer: start.mechanisms)))"))
        }
        guard start.versionMajor == 0, start.versionMinor == 9 else {
            return self.fail(AMQPError(code: .protocolError, message: "the broker speaks AMQP \(start.versionMajor)-\(start.versionMinor), not 0-9"))
        }
        self.state = .startOKSent
        var response = ByteBuffer()
        response.writeInteger(UInt8(0))
        response.writeString(self.configuration.user)
        response.writeInteger(UInt8(0))
        response.writeString(self.configuration.password)
        return .sendStartOK(
            Method.Connection.StartOK(clientProperties: self.clientProperties, mechanism: "PLAIN", response: response, locale: "en_US")
        )
    }

    /// `connection.secure` arrived: PLAIN never gets a challenge, so this is refused.
    mutating func secureReceived(_ secure: Method.Connection.Secure) -> Action {
        self.fail(AMQPError(code: .unsupported, message: "the broker sent connection.secure; PLAIN has no challenge"))
    }

    /// `connection.tune` arrived.
    mutating func tuneReceived(_ tune: Method.Connection.Tune) -> Action {
        guard case .startOKSent = self.state else {
            return self.protocolViolation("connection.tune out of order", replyCode: .unexpectedFrame, tune.method)
        }
        let negotiated = Self.negotiate(client: self.configuration, server: tune)
        guard negotiated.frameMax == 0 || negotiated.frameMax >= Frame.minimumFrameMax else {
            return self.protocolViolation(
                "negotiated frame_max \(negotiated.frameMax) is below the minimum 4096",
                replyCode: .notAllowed,
                tune.method
            )
        }
        self.state = .openSent(negotiated)
        self.heartbeatState.interval = UInt64(negotiated.heartbeat) * 1_000_000_000
        let tuneOK = Method.Connection.TuneOK(
            channelMax: tune.channelMax == 0 && self.configuration.channelMax == 0 ? 0 : negotiated.channelMax,
            frameMax: negotiated.frameMax,
            heartbeat: negotiated.heartbeat
        )
        return .sendTuneOKAndOpen(tuneOK, Method.Connection.Open(virtualHost: self.configuration.virtualHost), negotiated)
    }

    /// `connection.open-ok` arrived.
    mutating func openOKReceived() -> Action {
        guard case .openSent(let negotiated) = self.state else {
            return self.protocolViolation("connection.open-ok out of order", replyCode: .unexpectedFrame, Method.Connection.OpenOK().method)
        }
        self.state = .open(negotiated)
        return .fireConnected(negotiated)
    }

    /// The rule RabbitMQ and its clients use: where one side says 0 ("no limit" / "no
    /// preference") the other side's value wins, otherwise the smaller one.
    static func negotiate(client: Configuration, server: Method.Connection.Tune) -> Negotiated {
        func smallerNonZero<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
            a == 0 || b == 0 ? max(a, b) : min(a, b)
        }
        let channelMax = smallerNonZero(client.channelMax, server.channelMax)
        return Negotiated(
            frameMax: smallerNonZero(client.frameMax, server.frameMax),
            channelMax: channelMax == 0 ? UInt16.max : channelMax,
            heartbeat: smallerNonZero(client.heartbeat, server.heartbeat)
        )
    }

    var clientProperties: FieldTable {
        var capabilities = FieldTable()
        for name in [
            "publisher_confirms", "consumer_cancel_notify", "basic.nack", "connection.blocked",
            "authentication_failure_close", "exchange_exchange_bindings", "per_consumer_qos",
        ] {
            capabilities[name] = .bool(true)
        }
        var properties: FieldTable = [
            "product": .string("Warren AMQPClient"),
            "version": .string("0.1.0"),
            "platform": .string("Swift"),
            "information": .string("https://www.rabbitmq.com/amqp-0-9-1-reference.html"),
        ]
        capabilities["connection_name"] = .bool(true)
        properties["capabilities"] = .table(capabilities)
        if let name = self.configuration.connectionName {
            properties["connection_name"] = .string(name)
        }
        return properties
    }

    // MARK: Closing

    /// The application asked to close the connection.
    mutating func closeRequested() -> Action {
        switch self.state {
        case .initialized:
            self.state = .closed
            return .fireClosed(nil)
        case .protocolHeaderSent, .startOKSent, .openSent:
            self.state = .closing(nil)
            return .closeSocket(AMQPError.connectionClosed("the connection was closed before the handshake finished"))
        case .open:
            self.state = .closing(nil)
            return .sendClose(Method.Connection.Close(replyCode: 200, replyText: "Goodbye", classID: 0, methodID: 0), error: nil)
        case .closing, .closed:
            return .none
        }
    }

    /// `connection.close` arrived from the broker.
    mutating func closeReceived(_ close: Method.Connection.Close) -> Action {
        let error = AMQPError.brokerClosedConnection(
            replyCode: close.replyCode,
            replyText: close.replyText,
            classID: close.classID,
            methodID: close.methodID
        )
        switch self.state {
        case .closed:
            return .none
        case .closing(let earlier):
            // Both sides closed at once: answer and go.
            return .sendCloseOKAndCloseSocket(earlier ?? error)
        default:
            self.state = .closing(error)
            return .sendCloseOKAndCloseSocket(error)
        }
    }

    /// `connection.close-ok` arrived.
    mutating func closeOKReceived() -> Action {
        guard case .closing(let error) = self.state else {
            return self.protocolViolation("connection.close-ok without a close", replyCode: .unexpectedFrame, Method.Connection.CloseOK().method)
        }
        return .closeSocket(error)
    }

    /// Something went wrong that ends the connection: a protocol violation by the peer, a
    /// decoding error, an I/O error. Sends `connection.close` with the error's reply code when
    /// the connection is open, otherwise just closes the socket.
    mutating func errorHappened(_ error: AMQPError) -> Action {
        switch self.state {
        case .open:
            self.state = .closing(error)
            let close = Method.Connection.Close(
                replyCode: error.replyCode ?? ReplyCode.internalError.rawValue,
                replyText: String(error.message.prefix(200)),
                classID: error.classID ?? 0,
                methodID: error.methodID ?? 0
            )
            return .sendClose(close, error: error)
        case .closing(let earlier):
            if earlier == nil { self.state = .closing(error) }
            return .closeSocket(earlier ?? error)
        case .closed:
            return .none
        case .initialized, .protocolHeaderSent, .startOKSent, .openSent:
            return self.fail(error)
        }
    }

    /// The socket closed. Everything still waiting fails with `connectionClosed` unless the
    /// close was expected.
    mutating func channelInactive() -> Action {
        switch self.state {
        case .closed:
            return .none
        case .closing(let error):
            self.state = .closed
            return .fireClosed(error)
        case .initialized, .protocolHeaderSent, .startOKSent, .openSent:
            self.state = .closed
            return .fireClosed(
                AMQPError(code: .connectionClosed, message: "the broker closed the socket during the handshake (wrong credentials, vhost or protocol?)")
            )
        case .open:
            self.state = .closed
            return .fireClosed(AMQPError.connectionClosed("the socket closed without connection.close (network failure or broker crash)"))
        }
    }

    // MARK: Blocked

    /// `connection.blocked` arrived.
    mutating func blockedReceived(_ blocked: Method.Connection.Blocked) -> Action {
        guard case .open = self.state else { return .none }
        return .fireBlocked(blocked.reason)
    }

    /// `connection.unblocked` arrived.
    mutating func unblockedReceived() -> Action {
        guard case .open = self.state else { return .none }
        return .fireUnblocked
    }

    // MARK: Helpers

    /// Ends the connection at once, without the close handshake: for a peer that is gone
    /// (missed heartbeats), waiting for its close-ok would only delay the bad news.
    mutating func fail(_ error: AMQPError) -> Action {
        switch self.state {
        case .closed:
            return .none
        default:
            self.state = .closing(error)
            return .closeSocket(error)
        }
    }

    private mutating func protocolViolation(_ message: String, replyCode: ReplyCode, _ method: Method) -> Action {
        self.errorHappened(
            AMQPError(code: .protocolError, replyCode: replyCode.rawValue, classID: method.classID, methodID: method.methodID, message: message)
        )
    }
}
