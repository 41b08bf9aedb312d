import AMQPProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// An open AMQP 0-9-1 connection to a broker.
///
/// Open one with ``connect(configuration:eventLoopGroup:logger:)``, open channels on it with
/// ``openChannel()``, and ``close()`` it when done. All protocol state lives in one handler on
/// the connection's event loop; this object is a thread-safe handle to it.
public final class AMQPConnection: Sendable {
    let nioChannel: any Channel
    let handler: NIOLoopBound<AMQPChannelHandler>
    /// The configuration the connection was opened with.
    public let configuration: AMQPConfiguration
    /// The logger, with the connection id in its metadata.
    public let logger: Logger
    /// The largest frame either side sends, as negotiated (0: no limit).
    public let frameMax: UInt32
    /// The highest channel id, as negotiated.
    public let channelMax: UInt16
    /// The heartbeat interval in seconds, as negotiated (0: none).
    public let heartbeat: UInt16
    /// The reply path for direct reply-to addresses: a connection of its own, opened at the
    /// first reply (``AMQPChannel/publishReply(body:to:properties:)``), closed with this one.
    public let replies: AMQPDirectReplies
    private let closed: EventLoopFuture<AMQPError?>

    init(
        nioChannel: any Channel,
        handler: NIOLoopBound<AMQPChannelHandler>,
        configuration: AMQPConfiguration,
        logger: Logger,
        negotiated: ConnectionStateMachine.Negotiated,
        closed: EventLoopFuture<AMQPError?>
    ) {
        self.nioChannel = nioChannel
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
        self.frameMax = negotiated.frameMax
        self.channelMax = negotiated.channelMax
        self.heartbeat = negotiated.heartbeat
        self.closed = closed
        let replies = AMQPDirectReplies(owner: configuration, eventLoopGroup: nioChannel.eventLoop, logger: logger)
        self.replies = replies
        closed.whenComplete { _ in Task { await replies.close() } }
    }

    /// Connects to the broker and performs the AMQP handshake.
    ///
    /// - Parameters:
    ///   - configuration: Where to connect and what to negotiate.
    ///   - eventLoopGroup: The group to run the connection on; the shared singleton by default.
    ///   - logger: The logger; the connection adds `amqp.connection` to its metadata.
    /// - Throws: ``AMQPError``: `accessRefused` for a wrong user or password, `notAllowed` or
    ///   `accessRefused` for a vhost the user may not open, `timeout` when the handshake takes
    ///   longer than the configured connection timeout, `connectionFailed` when TCP or TLS fails.
    public static func connect(
        configuration: AMQPConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "warren.amqp")
    ) async throws -> AMQPConnection {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "amqp.connection"] = "\(ConnectionIDs.next())"
        logger[metadataKey: "amqp.host"] = "\(configuration.host):\(configuration.port)"
        let eventLoop = eventLoopGroup.next()
        let sslContext: NIOSSLContext?
        if let tls = configuration.tls {
            do {
                sslContext = try NIOSSLContext(configuration: tls.configuration)
            } catch {
                throw AMQPError(code: .invalidConfiguration, message: "the TLS configuration is not usable: \(error)")
            }
        } else {
            sslContext = nil
        }
        let handlerLogger = logger
        let instruments = AMQPInstruments()  // here: in the caller's task, with its metrics factory
        let handler = try await eventLoop.submit {
            NIOLoopBound(
                AMQPChannelHandler(configuration: configuration, logger: handlerLogger, eventLoop: eventLoop, instruments: instruments),
                eventLoop: eventLoop
            )
        }.get()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectionTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext, let tls = configuration.tls {
                        let hostname = tls.serverHostname ?? configuration.host
                        let isAddress = hostname.contains(":") || hostname.allSatisfy { $0.isNumber || $0 == "." }
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : hostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            _ = try? await eventLoop.submit { handler.value.closedPromise.succeed(nil) }.get()
            handler.eventLoop.execute { handler.value.connectPromise.fail(error) }
            throw AMQPError(code: .connectionFailed, message: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        let negotiated: ConnectionStateMachine.Negotiated
        let closed: EventLoopFuture<AMQPError?>
        do {
            (negotiated, closed) = try await eventLoop.flatSubmit {
                handler.value.connectPromise.futureResult.map { ($0, handler.value.closedPromise.futureResult) }
            }.get()
        } catch let error as AMQPError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw AMQPError(code: .connectionFailed, message: "\(error)")
        }
        logger.debug("connected", metadata: ["amqp.vhost": "\(configuration.virtualHost)"])
        return AMQPConnection(
            nioChannel: channel,
            handler: handler,
            configuration: configuration,
            logger: logger,
            negotiated: negotiated,
            closed: closed
        )
    }

    /// Runs `body` with the handler on the event loop.
    func withHandler(_ body: @escaping @Sendable (AMQPChannelHandler) -> Void) {
        let handler = self.handler
        if handler.eventLoop.inEventLoop {
            body(handler.value)
        } else {
            handler.eventLoop.execute { body(handler.value) }
        }
    }

    /// Opens a new channel, with the lowest free channel id.
    public func openChannel() async throws -> AMQPChannel {
        let promise = self.handler.eventLoop.makePromise(of: UInt16.self)
        let (returns, continuation) = AsyncStream.makeStream(of: AMQPReturnedMessage.self, bufferingPolicy: .bufferingNewest(1024))
        self.withHandler { $0.openChannel(returns: continuation, promise: promise) }
        let id = try await Self.mapErrors { try await promise.futureResult.get() }
        let channel = AMQPChannel(id: id, connection: self, returns: returns)
        let done = self.handler.eventLoop.makePromise(of: Void.self)
        self.withHandler {
            $0.channelObjectCreated(channel)
            done.succeed()
        }
        try await done.futureResult.get()
        return channel
    }

    /// Closes the connection politely (`connection.close`), failing whatever is still in flight.
    public func close() async throws {
        await self.replies.close()
        let promise = self.handler.eventLoop.makePromise(of: Void.self)
        self.withHandler { $0.closeConnection(promise: promise) }
        try await promise.futureResult.get()
    }

    /// Waits until the connection has closed; returns the reason, nil for a clean close.
    public func closeReason() async -> AMQPError? {
        (try? await self.closed.get()) ?? nil
    }

    /// Whether the connection is still open (or closing).
    public var isActive: Bool {
        self.nioChannel.isActive
    }

    static func mapErrors<T>(_ body: () async throws -> T) async throws(AMQPError) -> T {
        do {
            return try await body()
        } catch let error as AMQPError {
            throw error
        } catch {
            throw AMQPError(code: .connectionClosed, message: "\(error)")
        }
    }
}

/// Connection ids for log metadata.
enum ConnectionIDs {
    private static let counter = ManagedCounter()

    static func next() -> UInt64 {
        self.counter.next()
    }
}
