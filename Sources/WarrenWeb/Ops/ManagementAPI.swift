import NIOHTTP1
import WarrenCore

// JSONSerialization and percent-encoding need full Foundation on Linux.
import Foundation

/// The broker's management HTTP API, as the web role asks it (and nobody else: browsers see
/// only what ``OpsWatcher`` makes of it, through `GET /api/ops`).
///
/// Three questions, each one bounded request: the shared queues (depth, consumers, rates), the
/// number of tab queues, and a look at the first dead letters (taken and put back). The account
/// is the one in `WARREN_MGMT_URL`, else the services' account of `WARREN_AMQP_URL` (which
/// `rabbitmq/definitions.json` tags `monitoring` for this).
public struct ManagementAPI: Sendable {
    /// Where the API answers.
    public let host: String
    public let port: Int
    /// The virtual host of the services (the path of `WARREN_AMQP_URL`).
    public let vhost: String
    /// The `Authorization` header's value (Basic).
    let authorization: String
    /// The bound of each request.
    public var timeout: Duration = .seconds(5)

    /// The largest answer read: the shared queues' details, or the first dead letters, each cut
    /// short (``OpsWatcher``).
    static let maxBody = 4 << 20

    /// An API at `url` (`http://[user:password@]host[:port]`), with the user, password and
    /// virtual host of `amqpURL` where `url` names no user; nil when either URL cannot be read.
    public init?(url: String, amqpURL: String) {
        guard let api = URLComponents(string: url), api.scheme?.lowercased() == "http", let host = api.host, !host.isEmpty,
            let amqp = URLComponents(string: WarrenConfiguration.urlList(amqpURL).first ?? amqpURL)
        else { return nil }
        self.host = host
        self.port = api.port ?? 15672
        // URLComponents' user and password are percent-decoded already.
        let (user, password) = api.user.map { ($0, api.password ?? "") } ?? (amqp.user ?? "guest", amqp.password ?? "guest")
        self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let path = amqp.percentEncodedPath
        self.vhost = path.isEmpty || path == "/" ? "/" : (String(path.dropFirst()).removingPercentEncoding ?? "/")
    }

    /// Names the API in failures, without its password.
    var what: String { "the management API at \(self.host):\(self.port)" }

    /// One request; the JSON answer, or a failure naming the status.
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> Any {
        let body = try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        var headers = [("Authorization", self.authorization), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let answer = try await OneShotHTTP.request(
            host: self.host, port: self.port, method: method, path: path, headers: headers, body: body,
            timeout: self.timeout, maxBody: Self.maxBody, what: self.what
        )
        guard answer.status == 200 else {
            let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
            throw OneShotHTTP.Failure(description: "\(self.what) answered \(method) \(path.prefix(80)) with \(answer.status): \(text)")
        }
        return try JSONSerialization.jsonObject(with: Data(answer.body))
    }

    /// `s` for a path segment or a query value.
    static func encoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// A regular expression matching exactly `s`.
    static func literal(_ s: String) -> String {
        s.replacingOccurrences(of: ".", with: "\\.")
    }

    /// The queues of the virtual host whose names match `regex`: the first page of `pageSize`,
    /// and how many match in all.
    func queues(matching regex: String, pageSize: Int, columns: String? = nil) async throws -> (items: [[String: Any]], count: Int) {
        var path = "/api/queues/\(Self.encoded(self.vhost))?page=1&page_size=\(pageSize)&use_regex=true&name=\(Self.encoded(regex))"
        if let columns { path += "&columns=\(columns)" }
        let answer = try await self.call(.GET, path) as? [String: Any] ?? [:]
        let items = answer["items"] as? [[String: Any]] ?? []
        return (items, (answer["filtered_count"] as? NSNumber)?.intValue ?? items.count)
    }

    /// The first `count` messages of `queue`, each cut to `truncate` bytes, put back at once
    /// (the management UI's "Get messages" with "Nack message requeue true").
    func peek(_ queue: String, count: Int, truncate: Int) async throws -> [[String: Any]] {
        let path = "/api/queues/\(Self.encoded(self.vhost))/\(Self.encoded(queue))/get"
        let json: [String: Any] = ["count": count, "ackmode": "ack_requeue_true", "encoding": "auto", "truncate": truncate]
        return try await self.call(.POST, path, json: json) as? [[String: Any]] ?? []
    }
}
