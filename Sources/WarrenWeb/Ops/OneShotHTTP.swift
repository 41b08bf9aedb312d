import NIOCore
import NIOHTTP1
import NIOPosix
import WarrenCore

/// One HTTP/1.1 request on a connection of its own (closed after the answer): for the few calls
/// Warren makes as a client, the web role's questions to the broker's management API
/// (``ManagementAPI``) and the `warren rooms` commands' calls to the web role. Every call is
/// bounded: the whole exchange by `timeout`, the answer by `maxBody` bytes.
public enum OneShotHTTP {
    /// An answer: the status and the body.
    public struct Answer: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The body's bytes.
        public var body: [UInt8]
    }

    /// Why a request got no answer: the peer could not be reached, closed early, said too much,
    /// or took longer than the deadline (``DeadlineExceeded``, thrown as is).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Sends `method path` to `host:port` with `headers` (Host, Content-Length and Connection
    /// are added) and `body`, and reads the whole answer.
    /// - Parameter what: names the peer in failures ("the management API at ...").
    public static func request(
        host: String, port: Int, method: HTTPMethod, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration, maxBody: Int, what: String
    ) async throws -> Answer {
        try await withDeadline(timeout, what) {
            let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
            do {
                channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.seconds(5))
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                        }
                    }
            } catch {
                throw Failure(description: "cannot reach \(what): \(error)")
            }
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                head.headers.add(name: "Connection", value: "close")
                head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
                try await outbound.write(.head(head))
                if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                try await outbound.write(.end(nil))
                var status = 0
                var bytes: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body(let chunk):
                        bytes.append(contentsOf: chunk.readableBytesView)
                        guard bytes.count <= maxBody else { throw Failure(description: "the answer of \(what) is over \(maxBody) bytes") }
                    case .end: return Answer(status: status, body: bytes)
                    }
                }
                throw Failure(description: "\(what) closed the connection before answering")
            }
        }
    }
}
