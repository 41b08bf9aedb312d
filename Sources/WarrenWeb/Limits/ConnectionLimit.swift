import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// How many HTTP connections each client address holds open, against a limit; shared by the
/// handlers of every connection of one server.
final class ConnectionsPerAddress: Sendable {
    /// The most connections one address may hold open at once.
    let limit: Int
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// Counts a new connection of `address` and returns true, or returns false (counting
    /// nothing) when the address holds ``limit`` already.
    func opened(_ address: String) -> Bool {
        self.counts.withLockedValue { counts in
            let open = counts[address, default: 0]
            guard open < self.limit else { return false }
            counts[address] = open + 1
            return true
        }
    }

    /// Forgets a connection that ``opened(_:)`` counted.
    func closed(_ address: String) {
        self.counts.withLockedValue { counts in
            let open = counts[address, default: 1] - 1
            counts[address] = open > 0 ? open : nil
        }
    }

    /// The connections `address` holds open now.
    func open(_ address: String) -> Int {
        self.counts.withLockedValue { $0[address, default: 0] }
    }
}

/// Refuses the requests of a connection whose address already holds its share of connections:
/// `429 Too Many Requests`, `Retry-After: 1`, `{"error": "too_many_connections", …}`, then closes.
/// The broker's `/auth/*` questions pass even then.
///
/// One per connection, in the HTTP pipeline after the HTTP codec (Hummingbird's
/// `additionalChannelHandlers`). The count is taken when the handler is added and given back
/// when the connection's pipeline is torn down, so a connection that never sends a request
/// counts too.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let connections: ConnectionsPerAddress
    private let logger: Logger
    /// The address this connection was counted under; nil when it was not counted.
    private var counted: String?
    private var refused = false
    private var answered = false
    /// Passing an `/auth/*` request of a refused connection on, up to its end.
    private var passing = false

    init(connections: ConnectionsPerAddress, logger: Logger) {
        self.connections = connections
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // In-process test channels have no address: nothing to count them by.
        guard let address = context.channel.remoteAddress?.ipAddress else { return }
        if self.connections.opened(address) {
            self.counted = address
        } else {
            self.refused = true
            self.logger.notice(
                "HTTP connection refused: too many from one address",
                metadata: ["address": "\(address)", "limit": "\(self.connections.limit)"]
            )
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let address = self.counted {
            self.connections.closed(address)
            self.counted = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.refused else {
            context.fireChannelRead(data)
            return
        }
        let part = self.unwrapInboundIn(data)
        if case .head(let head) = part, head.path?.hasPrefix("/auth/") == true {
            // The broker's questions are never refused: they check a token and nothing more,
            // and the broker asks from one address, often the browsers' own (127.0.0.1).
            self.passing = true
        }
        if self.passing {
            if case .end = part { self.passing = false }
            context.fireChannelRead(data)
            return
        }
        guard case .head = part, !self.answered else { return }
        self.answered = true
        let channel = context.channel
        EarlyRefusal.write(
            .tooManyRequests, code: "too_many_connections",
            message: "This address has \(self.connections.limit) connections open to the server already; close some or try again shortly.",
            retryAfter: 1, to: context
        ).whenComplete { _ in channel.close(promise: nil) }
    }
}
