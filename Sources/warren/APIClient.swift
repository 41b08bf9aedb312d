import NIOHTTP1
import WarrenCore
import WarrenWeb

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
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        var headers = [("Authorization", "Bearer \(self.token)"), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let what = "the web role at \(self.host):\(self.port) (is `warren web` or `warren up` running?)"
        do {
            let answer = try await OneShotHTTP.request(
                host: self.host, port: self.port, method: method, path: path, headers: headers, body: body.map { Array($0) },
                timeout: self.timeout, maxBody: Self.maxBody, what: what
            )
            return Answer(status: answer.status, body: answer.body)
        } catch let failure as OneShotHTTP.Failure {
            throw CommandFailure(failure.description)
        }
    }
}
