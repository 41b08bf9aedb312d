import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Refuses a request body larger than the largest any route reads, before the router sees it.
///
/// A request whose `Content-Length` is over the limit is answered `413 Content Too Large`,
/// `{"error": "request_too_large", …}`, and its body read and dropped (so the client reads the
/// answer instead of a reset) up to a bound, then the connection closes. A body that is sent
/// without a length and grows past the limit closes the connection: the route has started by
/// then, and every route that reads a body refuses one over its own, smaller limit first.
final class BodySizeLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// The most bytes of one request body.
    let maximum: Int
    private let logger: Logger
    private var received = 0
    /// Dropping the rest of a refused request; the connection closes at its end.
    private var dropping = false

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    /// How much of a refused body is read and dropped before the connection is closed anyway.
    private var dropBound: Int { self.maximum * 16 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.received = 0
            if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length > self.maximum {
                self.dropping = true
                self.logger.info(
                    "request refused: body too large",
                    metadata: ["path": "\(head.path ?? "")", "bytes": "\(length)", "limit": "\(self.maximum)"]
                )
                _ = EarlyRefusal.write(
                    .contentTooLarge, code: "request_too_large",
                    message: "The request body is \(length) bytes; this server takes at most \(self.maximum).",
                    to: context
                )
                if length > self.dropBound { context.close(promise: nil) }
                return
            }
            context.fireChannelRead(data)
        case .body(let buffer):
            self.received += buffer.readableBytes
            if self.dropping {
                if self.received > self.dropBound { context.close(promise: nil) }
                return
            }
            if self.received > self.maximum {
                self.dropping = true
                self.logger.info("connection closed: request body without a length grew too large", metadata: ["limit": "\(self.maximum)"])
                context.close(promise: nil)
                return
            }
            context.fireChannelRead(data)
        case .end:
            if self.dropping {
                context.close(promise: nil)
                return
            }
            context.fireChannelRead(data)
        }
    }
}
