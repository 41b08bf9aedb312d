import NIOCore
import NIOSSL

/// Everything needed to open an AMQP 0-9-1 connection: where, who, and what to negotiate.
///
/// Build one by hand or from a URL with ``init(url:)``. The password never appears in
/// ``description``.
public struct AMQPConfiguration: Sendable, CustomStringConvertible {
    /// TLS settings for an `amqps` connection.
    public struct TLS: Sendable {
        /// The NIOSSL configuration (trust roots, certificate verification, client certificate).
        public var configuration: TLSConfiguration
        /// The name sent as SNI and checked against the certificate; defaults to ``AMQPConfiguration/host``.
        public var serverHostname: String?

        /// Creates TLS settings; the default verifies the broker's certificate against the system roots.
        public init(configuration: TLSConfiguration = .makeClientConfiguration(), serverHostname: String? = nil) {
            self.configuration = configuration
            self.serverHostname = serverHostname
        }
    }

    /// A broker node's address: a host and a port.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// The host name or IP address.
        public var host: String
        /// The port.
        public var port: Int
        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        /// `host:port`.
        public var description: String { "\(self.host):\(self.port)" }
    }

    /// The broker's host name or IP address.
    public var host: String
    /// The broker's port; 5672 for `amqp`, 5671 for `amqps`.
    public var port: Int
    /// The other nodes of the broker's cluster, tried after ``host``:``port`` (with the same
    /// credentials, virtual host and TLS settings) by ``AMQPConnector``; empty for one broker.
    public var failoverEndpoints: [Endpoint] = []
    /// The user name for PLAIN authentication.
    public var user: String
    /// The password for PLAIN authentication.
    public var password: String
    /// The virtual host to open.
    public var virtualHost: String
    /// TLS settings; nil for plain TCP.
    public var tls: TLS?
    /// The heartbeat interval in seconds we ask for; 0 asks for none. The smaller non-zero of
    /// ours and the broker's wins.
    public var heartbeat: UInt16
    /// The largest frame we accept, in bytes; 0 for no limit (the broker's applies). At least 4096.
    public var frameMax: UInt32
    /// The most channels we use; 0 for no limit (the broker's applies).
    public var channelMax: UInt16
    /// How long connecting (TCP, TLS and the AMQP handshake together) may take.
    public var connectionTimeout: TimeAmount
    /// A name shown in the broker's management UI (`connection_name` client property).
    public var connectionName: String?
    /// The most unconfirmed publishes per channel in confirm mode; further publishes wait.
    public var maxOutstandingConfirms: Int
    /// How many deliveries a consumer buffers before the connection stops reading from the socket.
    public var consumerBufferSize: Int
    /// How long a publish waits while the broker has blocked the connection before it fails.
    public var blockedPublishTimeout: TimeAmount
    /// How long a synchronous request (declare, bind, qos, consume, cancel, channel open and
    /// close …) may wait for its reply, and a publish in confirm mode for its confirm (counted
    /// from the call, so time spent waiting for the confirm window counts too). Past it the call
    /// fails with ``AMQPError/Code-swift.struct/timeout``; a request's channel is closed, since a
    /// late reply could no longer be matched. Nothing the client awaits waits forever.
    public var requestTimeout: TimeAmount
    /// How long a publish in confirm mode may wait for its confirm (and for the confirm window),
    /// when that should be shorter than ``requestTimeout``; nil: ``requestTimeout``. Past it the
    /// publish fails with ``AMQPError/Code-swift.struct/timeout`` and the channel stays open.
    public var confirmTimeout: TimeAmount?

    /// The bound on a confirm: ``confirmTimeout``, or ``requestTimeout`` without one.
    public var effectiveConfirmTimeout: TimeAmount { self.confirmTimeout ?? self.requestTimeout }

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int? = nil,
        user: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        tls: TLS? = nil,
        heartbeat: UInt16 = 60,
        frameMax: UInt32 = 131_072,
        channelMax: UInt16 = 2047,
        connectionTimeout: TimeAmount = .seconds(30),
        connectionName: String? = nil,
        maxOutstandingConfirms: Int = 1024,
        consumerBufferSize: Int = 256,
        blockedPublishTimeout: TimeAmount = .seconds(30),
        requestTimeout: TimeAmount = .seconds(30)
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 5672 : 5671)
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.tls = tls
        self.heartbeat = heartbeat
        self.frameMax = frameMax
        self.channelMax = channelMax
        self.connectionTimeout = connectionTimeout
        self.connectionName = connectionName
        self.maxOutstandingConfirms = maxOutstandingConfirms
        self.consumerBufferSize = consumerBufferSize
        self.blockedPublishTimeout = blockedPublishTimeout
        self.requestTimeout = requestTimeout
    }

    /// Every node to try: ``host``:``port`` first, then ``failoverEndpoints``.
    public var endpoints: [Endpoint] {
        [Endpoint(host: self.host, port: self.port)] + self.failoverEndpoints
    }

    /// This configuration aimed at `endpoint` (TLS still checks the name the first host set, or
    /// its ``TLS/serverHostname``, only when that is unset: the endpoint's own host). It keeps
    /// every node: ``endpoints`` is `endpoint` and then the others in their order from the one
    /// after it, so a connection's configuration still names the whole cluster.
    public func aimed(at endpoint: Endpoint) -> AMQPConfiguration {
        let all = self.endpoints
        var configuration = self
        configuration.host = endpoint.host
        configuration.port = endpoint.port
        if let index = all.firstIndex(of: endpoint) {
            configuration.failoverEndpoints = Array(all[(index + 1)...] + all[..<index])
        }
        return configuration
    }

    /// Checks the values a URL cannot make invalid by type: frame-max, limits and timeouts.
    public func validate() throws(AMQPError) {
        guard self.frameMax == 0 || self.frameMax >= 4096 else {
            throw AMQPError(code: .invalidConfiguration, message: "frame_max \(self.frameMax) is below the minimum 4096 (use 0 for no limit)")
        }
        guard !self.host.isEmpty else {
            throw AMQPError(code: .invalidConfiguration, message: "the host is empty")
        }
        guard (1...65535).contains(self.port) else {
            throw AMQPError(code: .invalidConfiguration, message: "port \(self.port) is not in 1...65535")
        }
        guard self.maxOutstandingConfirms >= 1, self.consumerBufferSize >= 1 else {
            throw AMQPError(code: .invalidConfiguration, message: "maxOutstandingConfirms and consumerBufferSize must be at least 1")
        }
        guard self.connectionTimeout > .zero else {
            throw AMQPError(code: .invalidConfiguration, message: "the connection timeout must be positive")
        }
        guard self.requestTimeout > .zero else {
            throw AMQPError(code: .invalidConfiguration, message: "the request timeout must be positive")
        }
        if let confirmTimeout = self.confirmTimeout, confirmTimeout <= .zero {
            throw AMQPError(code: .invalidConfiguration, message: "the confirm timeout must be positive")
        }
    }

    /// The configuration with the password replaced by `***`.
    public var description: String {
        let scheme = self.tls == nil ? "amqp" : "amqps"
        var text = "\(scheme)://\(self.user):***@\(self.host):\(self.port)/\(self.virtualHost)"
        text += " heartbeat=\(self.heartbeat) frame_max=\(self.frameMax) channel_max=\(self.channelMax)"
        if let name = self.connectionName { text += " name=\(name)" }
        if !self.failoverEndpoints.isEmpty { text += " failover=" + self.failoverEndpoints.map(\.description).joined(separator: ",") }
        return text
    }
}

extension AMQPConfiguration: CustomDebugStringConvertible, CustomReflectable {
    /// The same as ``description``: the password is never shown.
    public var debugDescription: String {
        self.description
    }

    /// A mirror without the password, so `dump` and debuggers do not show it either.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": self.host, "port": self.port, "user": self.user, "password": "***",
                "virtualHost": self.virtualHost, "heartbeat": self.heartbeat, "frameMax": self.frameMax,
                "channelMax": self.channelMax, "connectionName": self.connectionName as Any,
            ],
            displayStyle: .struct
        )
    }
}
