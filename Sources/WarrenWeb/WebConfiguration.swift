#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything the `web` role needs: where to listen, what to serve, and what to tell browsers.
///
/// Deliberately small and self-contained: WarrenCore will own Warren's configuration as a whole,
/// and this type is shaped so that its loader can build one and hand it to ``buildApplication(configuration:brokerReachable:logger:)``.
public struct WebConfiguration: Sendable, Equatable {
    /// The address the HTTP server binds to (`WARREN_HTTP_HOST`, default `127.0.0.1`).
    public var host: String
    /// The TCP port the HTTP server listens on (`WARREN_HTTP_PORT`, default `8080`; `0` picks a free port).
    public var port: Int
    /// The folder whose files are served (`WARREN_WEB_ROOT`, default `web`, relative to the working directory).
    public var webRoot: String
    /// The Web-STOMP endpoint browsers connect to (`WARREN_STOMP_URL`, default `ws://127.0.0.1:15674/ws`).
    public var stompURL: String
    /// The broker virtual host browsers name in their STOMP `CONNECT` (`WARREN_STOMP_VHOST`, default `warren`).
    public var stompVHost: String
    /// The shared browser account's login (`WARREN_STOMP_LOGIN`, default `browser`).
    public var stompLogin: String
    /// The shared browser account's passcode (`WARREN_BROWSER_PASSWORD`, default `browser`).
    public var stompPasscode: String
    /// The prefix of every broker name, as in `chat.inbox` (`WARREN_PREFIX`, default `chat`).
    public var prefix: String
    /// Leading zero bits a proof of work needs (`WARREN_POW_BITS`, default `24`).
    public var powBits: Int
    /// The AMQP endpoint whose reachability `/healthz` reports (from `WARREN_AMQP_URL`,
    /// default `amqp://warren:warren@127.0.0.1:5672/warren`; only host and port are kept).
    public var broker: BrokerEndpoint

    /// A host and port of the AMQP broker.
    public struct BrokerEndpoint: Sendable, Equatable {
        /// The broker's host name or address.
        public var host: String
        /// The broker's AMQP port.
        public var port: Int

        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Creates a configuration; every parameter has the default that works on one machine.
    ///
    /// No validation happens here: use ``init(environment:)`` to read and check user input.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        webRoot: String = "web",
        stompURL: String = "ws://127.0.0.1:15674/ws",
        stompVHost: String = "warren",
        stompLogin: String = "browser",
        stompPasscode: String = "browser",
        prefix: String = "chat",
        powBits: Int = 24,
        broker: BrokerEndpoint = BrokerEndpoint(host: "127.0.0.1", port: 5672)
    ) {
        self.host = host
        self.port = port
        self.webRoot = webRoot
        self.stompURL = stompURL
        self.stompVHost = stompVHost
        self.stompLogin = stompLogin
        self.stompPasscode = stompPasscode
        self.prefix = prefix
        self.powBits = powBits
        self.broker = broker
    }

    /// Reads the configuration from environment variables, falling back to the defaults.
    ///
    /// A variable that is unset or empty takes its default, so `WARREN_HTTP_PORT=` in a Compose
    /// file means "the default", not an error.
    /// - Parameter environment: the variables to read, usually `ProcessInfo.processInfo.environment`.
    /// - Throws: ``WebConfigurationError`` naming the first variable whose value is unusable.
    public init(environment: [String: String]) throws(WebConfigurationError) {
        let defaults = WebConfiguration()
        func value(_ name: String) -> String? {
            guard let raw = environment[name] else { return nil }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }

        self.init()
        self.host = value(Variable.httpHost) ?? defaults.host
        if let raw = value(Variable.httpPort) {
            self.port = try Self.parsePort(raw, variable: Variable.httpPort, allowZero: true)
        }
        self.webRoot = value(Variable.webRoot) ?? defaults.webRoot
        if let raw = value(Variable.stompURL) {
            _ = try Self.parseStompOrigin(raw, variable: Variable.stompURL)
            self.stompURL = raw
        }
        self.stompVHost = value(Variable.stompVHost) ?? defaults.stompVHost
        self.stompLogin = value(Variable.stompLogin) ?? defaults.stompLogin
        // The password may legitimately contain spaces at its ends, so it is not trimmed.
        if let raw = environment[Variable.browserPassword], !raw.isEmpty {
            self.stompPasscode = raw
        }
        if let raw = value(Variable.prefix) {
            try Self.checkPrefix(raw)
            self.prefix = raw
        }
        if let raw = value(Variable.powBits) {
            guard let bits = Int(raw), Self.powBitsRange.contains(bits) else {
                throw WebConfigurationError(
                    .invalidNumber,
                    variable: Variable.powBits,
                    value: raw,
                    reason: "expected a whole number of bits from \(Self.powBitsRange.lowerBound) to \(Self.powBitsRange.upperBound)"
                )
            }
            self.powBits = bits
        }
        if let raw = value(Variable.amqpURL) {
            self.broker = try Self.parseAMQPEndpoint(raw, variable: Variable.amqpURL)
        }
    }

    /// The names of the environment variables ``init(environment:)`` reads.
    public enum Variable {
        /// `WARREN_HTTP_HOST`: ``WebConfiguration/host``.
        public static let httpHost = "WARREN_HTTP_HOST"
        /// `WARREN_HTTP_PORT`: ``WebConfiguration/port``.
        public static let httpPort = "WARREN_HTTP_PORT"
        /// `WARREN_WEB_ROOT`: ``WebConfiguration/webRoot``.
        public static let webRoot = "WARREN_WEB_ROOT"
        /// `WARREN_STOMP_URL`: ``WebConfiguration/stompURL``.
        public static let stompURL = "WARREN_STOMP_URL"
        /// `WARREN_STOMP_VHOST`: ``WebConfiguration/stompVHost``.
        public static let stompVHost = "WARREN_STOMP_VHOST"
        /// `WARREN_STOMP_LOGIN`: ``WebConfiguration/stompLogin``.
        public static let stompLogin = "WARREN_STOMP_LOGIN"
        /// `WARREN_BROWSER_PASSWORD`: ``WebConfiguration/stompPasscode``.
        public static let browserPassword = "WARREN_BROWSER_PASSWORD"
        /// `WARREN_PREFIX`: ``WebConfiguration/prefix``.
        public static let prefix = "WARREN_PREFIX"
        /// `WARREN_POW_BITS`: ``WebConfiguration/powBits``.
        public static let powBits = "WARREN_POW_BITS"
        /// `WARREN_AMQP_URL`: ``WebConfiguration/broker``.
        public static let amqpURL = "WARREN_AMQP_URL"
    }

    /// The proof-of-work difficulties accepted; beyond 64 bits no browser would ever finish.
    static let powBitsRange = 1...64

    /// The origin (`ws://host:port`) of ``stompURL``, as a Content-Security-Policy source.
    ///
    /// `nil` when the URL cannot be parsed, which only a configuration built in code can hold;
    /// the policy then allows `'self'` alone and the browser's STOMP connection is refused.
    public var stompOrigin: String? {
        try? Self.parseStompOrigin(self.stompURL, variable: Variable.stompURL)
    }
}

extension WebConfiguration {
    static func parsePort(_ raw: String, variable: String, allowZero: Bool) throws(WebConfigurationError) -> Int {
        let lowest = allowZero ? 0 : 1
        guard let port = Int(raw), (lowest...65535).contains(port) else {
            throw WebConfigurationError(
                .invalidPort,
                variable: variable,
                value: raw,
                reason: "expected a port number from \(lowest) to 65535"
            )
        }
        return port
    }

    /// Checks a Web-STOMP URL and returns its origin, e.g. `ws://127.0.0.1:15674`.
    static func parseStompOrigin(_ raw: String, variable: String) throws(WebConfigurationError) -> String {
        guard let components = URLComponents(string: raw),
            let scheme = components.scheme?.lowercased(),
            scheme == "ws" || scheme == "wss"
        else {
            throw WebConfigurationError(
                .invalidURL,
                variable: variable,
                value: raw,
                reason: "expected a WebSocket URL such as ws://127.0.0.1:15674/ws"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw WebConfigurationError(.invalidURL, variable: variable, value: raw, reason: "the URL has no host")
        }
        // URLComponents reads an out-of-range port as nil, which would silently mean the default.
        if let port = components.port, !(1...65535).contains(port) {
            throw WebConfigurationError(.invalidURL, variable: variable, value: raw, reason: "the port is not from 1 to 65535")
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port {
            return "\(scheme)://\(bracketed):\(port)"
        }
        return "\(scheme)://\(bracketed)"
    }

    static func parseAMQPEndpoint(_ raw: String, variable: String) throws(WebConfigurationError) -> BrokerEndpoint {
        guard let components = URLComponents(string: raw),
            let scheme = components.scheme?.lowercased(),
            scheme == "amqp" || scheme == "amqps"
        else {
            throw WebConfigurationError(
                .invalidURL,
                variable: variable,
                value: Self.redactingPassword(raw),
                reason: "expected an AMQP URL such as amqp://user:password@127.0.0.1:5672/vhost"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw WebConfigurationError(.invalidURL, variable: variable, value: Self.redactingPassword(raw), reason: "the URL has no host")
        }
        let port = components.port ?? (scheme == "amqps" ? 5671 : 5672)
        guard (1...65535).contains(port) else {
            throw WebConfigurationError(
                .invalidURL,
                variable: variable,
                value: Self.redactingPassword(raw),
                reason: "the port is not from 1 to 65535"
            )
        }
        return BrokerEndpoint(host: host, port: port)
    }

    static func checkPrefix(_ raw: String) throws(WebConfigurationError) {
        // The prefix starts queue and exchange names and routing keys, and RabbitMQ's
        // authorisation patterns match on it, so keep it to characters that need no escaping.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        guard raw.allSatisfy(allowed.contains), raw.first != ".", raw.last != ".", !raw.contains("..") else {
            throw WebConfigurationError(
                .invalidName,
                variable: Variable.prefix,
                value: raw,
                reason: "expected letters, digits, '_', '-' and inner single '.', as in 'chat' or 'team-a.chat'"
            )
        }
    }

    /// Hides the password of a URL that goes into an error message or a log.
    static func redactingPassword(_ raw: String) -> String {
        guard var components = URLComponents(string: raw), components.password != nil else { return raw }
        components.password = "***"
        return components.string ?? raw
    }
}

/// A configuration value that cannot be used, with the variable that holds it and why.
public struct WebConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of value was wrong; open-ended, so new codes do not break callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// A port that is not a number in range.
        public static let invalidPort = Code(name: "invalidPort")
        /// A number that is not a number, or out of range.
        public static let invalidNumber = Code(name: "invalidNumber")
        /// A URL that cannot be parsed or has the wrong scheme.
        public static let invalidURL = Code(name: "invalidURL")
        /// A broker name (prefix) with characters it must not have.
        public static let invalidName = Code(name: "invalidName")

        /// The code's name.
        public var description: String { self.name }
    }

    /// What kind of value was wrong.
    public var code: Code
    /// The environment variable that held it.
    public var variable: String
    /// The value as given (with any password hidden).
    public var value: String
    /// What was expected instead.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, variable: String, value: String, reason: String) {
        self.code = code
        self.variable = variable
        self.value = value
        self.reason = reason
    }

    /// A one-line message, e.g. `WARREN_HTTP_PORT="eighty": expected a port number from 0 to 65535`.
    public var description: String {
        "\(self.variable)=\"\(self.value)\": \(self.reason)"
    }
}
