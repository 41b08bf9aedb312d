import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the `web` role needs: where to listen, what to serve, and what to tell browsers.
///
/// Not read from the environment by itself: Warren has one loader, ``WarrenCore/WarrenConfiguration``
/// (the environment, then `.env`, then defaults), and ``init(_:)`` takes this role's part of it.
/// The memberwise initialiser is for tests and embedders.
public struct WebConfiguration: Sendable, Equatable {
    /// The address the HTTP server binds to (`WARREN_HTTP_HOST`).
    public var host: String
    /// The TCP port the HTTP server listens on (`WARREN_HTTP_PORT`; `0` picks a free port).
    public var port: Int
    /// The folder whose files are served (`WARREN_WEB_ROOT`, relative to the working directory).
    public var webRoot: String
    /// The Web-STOMP endpoint browsers connect to (`WARREN_STOMP_URL`).
    public var stompURL: String
    /// The broker virtual host browsers name in their STOMP `CONNECT` (`WARREN_STOMP_VHOST`).
    public var stompVHost: String
    /// The prefix of every broker name, as in `chat.inbox` (`WARREN_PREFIX`).
    public var prefix: String
    /// Leading zero bits a proof of work needs (`WARREN_POW_BITS`).
    public var powBits: Int
    /// The AMQP endpoint whose health `/healthz` reports (host and port of `WARREN_AMQP_URL`,
    /// its first node).
    public var broker: BrokerEndpoint
    /// The other nodes of `WARREN_AMQP_URL`: `/healthz` reports the broker reachable when any
    /// node answers.
    public var failoverBrokers: [BrokerEndpoint] = []
    /// The most HTTP connections one client address may hold open at once; 0 sets no limit
    /// (`WARREN_HTTP_CONNECTIONS_PER_ADDRESS`).
    public var connectionsPerAddress: Int
    /// The logins that may read `GET /api/ops`, the operator's page (`WARREN_ADMINS`).
    public var admins: [String] = []
    /// General's stream, which every tab reads (`WARREN_GENERAL_STREAM`, on by default, sets it
    /// in ``init(_:)``); nil when general reaches tabs through their own queues, as it does for
    /// a configuration made with the memberwise initialiser until this is set.
    public var generalStream: String? = nil

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

        /// The host and port of an `amqp://` or `amqps://` URL (5672 or 5671 when it names none);
        /// nil when the URL has no host.
        public init?(amqpURL: String) {
            guard let components = URLComponents(string: amqpURL), let host = components.host, !host.isEmpty else {
                return nil
            }
            let secure = components.scheme?.lowercased() == "amqps"
            self.init(host: host, port: components.port ?? (secure ? 5671 : 5672))
        }
    }

    /// Takes the web role's settings from Warren's configuration.
    public init(_ configuration: WarrenConfiguration) {
        self.init(
            host: configuration.httpHost,
            port: configuration.httpPort,
            webRoot: configuration.webRoot,
            stompURL: configuration.stompURL,
            stompVHost: configuration.stompVhost,
            prefix: configuration.prefix,
            powBits: configuration.powBits,
            // WarrenConfiguration has checked that the URL has a host; the fallback is never used.
            broker: BrokerEndpoint(amqpURL: configuration.amqpURLs[0]) ?? BrokerEndpoint(host: "127.0.0.1", port: 5672),
            connectionsPerAddress: configuration.httpConnectionsPerAddress
        )
        self.failoverBrokers = configuration.amqpURLs.dropFirst().compactMap(BrokerEndpoint.init(amqpURL:))
        self.admins = configuration.admins
        self.generalStream = configuration.generalStream ? configuration.topology.generalStream : nil
    }

    /// Every broker node: ``broker``, then ``failoverBrokers``.
    public var brokers: [BrokerEndpoint] { [self.broker] + self.failoverBrokers }

    /// The Web-STOMP endpoints, one per node: ``stompURL`` split at commas.
    public var stompURLs: [String] { WarrenConfiguration.urlList(self.stompURL) }

    /// Creates a configuration; every parameter defaults to WarrenConfiguration's default.
    public init(
        host: String = WarrenConfiguration.defaults.httpHost,
        port: Int = WarrenConfiguration.defaults.httpPort,
        webRoot: String = WarrenConfiguration.defaults.webRoot,
        stompURL: String = WarrenConfiguration.defaults.stompURL,
        stompVHost: String = WarrenConfiguration.defaults.stompVhost,
        prefix: String = WarrenConfiguration.defaults.prefix,
        powBits: Int = WarrenConfiguration.defaults.powBits,
        broker: BrokerEndpoint = BrokerEndpoint(host: "127.0.0.1", port: 5672),
        connectionsPerAddress: Int = WarrenConfiguration.defaults.httpConnectionsPerAddress
    ) {
        self.host = host
        self.port = port
        self.webRoot = webRoot
        self.stompURL = stompURL
        self.stompVHost = stompVHost
        self.prefix = prefix
        self.powBits = powBits
        self.broker = broker
        self.connectionsPerAddress = connectionsPerAddress
    }

    /// The origins (`ws://host:port`) of ``stompURLs``, as Content-Security-Policy sources
    /// (separated by spaces).
    ///
    /// `nil` when a URL cannot be parsed, which only a configuration built in code can hold;
    /// the policy then allows `'self'` alone and the browser's STOMP connection is refused.
    public var stompOrigin: String? {
        let origins = self.stompURLs.map(Self.origin(of:))
        guard !origins.isEmpty, !origins.contains(nil) else { return nil }
        var unique: [String] = []
        for case let origin? in origins where !unique.contains(origin) { unique.append(origin) }
        return unique.joined(separator: " ")
    }

    private static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "ws" || scheme == "wss",
            let host = components.host, !host.isEmpty
        else { return nil }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return components.port.map { "\(scheme)://\(bracketed):\($0)" } ?? "\(scheme)://\(bracketed)"
    }
}
