import NIOCore
import NIOHTTP1
import NIOPosix
import WarrenCore

import Foundation

/// A small HTTP/1.1 client for the web role's REST API (docs/api.md), for the commands that
/// act as a person: one request per connection, the bearer token on each, every call bounded.
struct APIClient: Sendable {
    /// Where the web role answers: `http://host:port` (no TLS; put a proxy's plain address here).
    let host: String
    let port: Int
    let token: String
    let timeout: Duration

    /// The largest answer read.
    static let maxBody = 1 << 20

    /// An answer: the status and the JSON body.
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]

        /// The body as a JSON object, nil when it is not one.
        var object: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(self.body))) as? [String: Any]
        }

        /// The body, or the refusal it holds (`{"ok": false, "code", "error"}`) as a failure.
        func checked() throws -> [String: Any] {
            let object = self.object ?? [:]
            guard (200..<300).contains(self.status) else {
                let code = object["code"] as? String ?? object["error"] as? String ?? "http.\(self.status)"
                let message = object["error"] as? String ?? object["message"] as? String ?? String(decoding: self.body.prefix(200), as: UTF8.self)
                throw CommandFailure("refused (\(self.status) \(code)): \(message)")
            }
            return object
        }
    }

    /// Parses `http://host[:port]`.
    init(url: String, token: String, timeout: Duration = .seconds(10)) throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/"
        else {
            throw CommandFailure("--url \(url): expected http://HOST:PORT, the web role's address")
        }
        self.host = host
        self.port = components.port ?? 80
        self.token = token
        self.timeout = timeout
    }

    /// Sends one request; `json` is the body (an object), nil for none.
    func call(_ method: HTTPMethod, _ path: String, json: [String: String]? = nil) async throws -> Answer {
        let (host, port, token) = (self.host, self.port, self.token)
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        return try await withDeadline(self.timeout, "the web role at \(host):\(port) (is `warren web` or `warren up` running?)") {
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
                throw CommandFailure("cannot reach the web role at \(host):\(port) (is `warren web` or `warren up` running?): \(error)")
            }
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Authorization", value: "Bearer \(token)")
                head.headers.add(name: "Accept", value: "application/json")
                head.headers.add(name: "Connection", value: "close")
                if body != nil { head.headers.add(name: "Content-Type", value: "application/json") }
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
                        guard bytes.count <= Self.maxBody else { throw CommandFailure("the answer from \(host):\(port) is over \(Self.maxBody) bytes") }
                    case .end: return Answer(status: status, body: bytes)
                    }
                }
                throw CommandFailure("\(host):\(port) closed the connection before answering")
            }
        }
    }
}
