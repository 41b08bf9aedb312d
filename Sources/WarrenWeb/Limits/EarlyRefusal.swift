import HTTPTypes
import NIOCore
import NIOHTTPTypes

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An answer written by a channel handler before a request reaches the router: the same JSON
/// shape as the API's errors, `{"error": "<code>", "message": "<for a person>"}`, and
/// `Connection: close`.
enum EarlyRefusal {
    /// Writes the answer; the caller closes the connection when it is done with it.
    static func write(
        _ status: HTTPResponse.Status, code: String, message: String, retryAfter: Int? = nil,
        to context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let fields: [String: String] = ["error": code, "message": message]
        let json: Data = (try? encoder.encode(fields)) ?? Data(message.utf8)
        let body = ByteBuffer(bytes: json)
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8",
            .contentLength: String(body.readableBytes),
            .cacheControl: "no-store",
            .connection: "close",
        ]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        context.write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: headers))), promise: nil)
        context.write(NIOAny(HTTPResponsePart.body(body)), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: promise)
        return promise.futureResult
    }
}
