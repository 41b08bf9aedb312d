import NIOCore

extension AMQPConfiguration {
    /// Parses an `amqp://` or `amqps://` URL, as RabbitMQ's URI specification describes it.
    ///
    /// `amqp://user:password@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=64&connection_timeout=5000`.
    /// Every part is percent-decoded (`%2F` is a vhost of "/"). The port defaults to 5672
    /// (`amqp`) or 5671 (`amqps`). A missing path gives the vhost "/", an empty path
    /// (`amqp://host/`) the empty vhost "". IPv6 hosts go in brackets. Query parameters:
    /// - `heartbeat`: seconds, 0...65535 (0 turns heartbeats off);
    /// - `frame_max`: bytes, 0 or 4096...4294967295;
    /// - `channel_max`: 0...65535;
    /// - `connection_timeout`: **milliseconds**, as in RabbitMQ's URI spec; a value with an `s`
    ///   suffix (e.g. `5s`) is seconds;
    /// - `request_timeout`: the bound on every reply and confirm (``requestTimeout``), written
    ///   like `connection_timeout` (not in RabbitMQ's spec);
    /// - `connection_name`: the name shown in the management UI.
    /// Unknown parameters are ignored. `amqps` uses `tls` (the system trust roots by default).
    ///
    /// - Parameters:
    ///   - url: The URL text.
    ///   - tls: TLS settings for an `amqps` URL.
    /// - Throws: ``AMQPError`` with code ``AMQPError/Code-swift.struct/invalidConfiguration``.
    public init(url: String, tls: TLS = TLS()) throws(AMQPError) {
        func fail(_ message: String) -> AMQPError {
            AMQPError(code: .invalidConfiguration, message: "invalid AMQP URL: \(message)")
        }
        let secure: Bool
        var rest: Substring
        if url.lowercased().hasPrefix("amqp://") {
            secure = false
            rest = url.dropFirst("amqp://".count)
        } else if url.lowercased().hasPrefix("amqps://") {
            secure = true
            rest = url.dropFirst("amqps://".count)
        } else {
            throw fail("the scheme must be amqp or amqps")
        }

        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        var path: Substring?
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user = "guest"
        var password = "guest"
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.percentDecoded(userInfo[..<colon], what: "user")
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password")
            } else {
                user = try Self.percentDecoded(userInfo, what: "user")
            }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("an IPv6 host lacks its closing ]") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw fail("unexpected text after the IPv6 host")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        let hostName = try Self.percentDecoded(host, what: "host")
        var port = secure ? 5671 : 5672
        if let portText, !portText.isEmpty {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw fail("port \"\(portText)\" is not a number in 1...65535")
            }
            port = value
        }
        var vhost = "/"
        if let path { vhost = try Self.percentDecoded(path, what: "vhost") }

        self.init(
            host: hostName.isEmpty ? "localhost" : hostName,
            port: port,
            user: user,
            password: password,
            virtualHost: vhost,
            tls: secure ? tls : nil
        )

        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.percentDecoded(parts[0], what: "query key")
            let value = parts.count > 1 ? try Self.percentDecoded(parts[1], what: "query value") : ""
            switch key {
            case "heartbeat":
                guard let seconds = UInt16(value) else { throw fail("heartbeat \"\(value)\" is not a number of seconds in 0...65535") }
                self.heartbeat = seconds
            case "frame_max":
                guard let bytes = UInt32(value) else { throw fail("frame_max \"\(value)\" is not a number in 0...4294967295") }
                guard bytes == 0 || bytes >= 4096 else { throw fail("frame_max \(bytes) is below the minimum 4096 (use 0 for no limit)") }
                self.frameMax = bytes
            case "channel_max":
                guard let count = UInt16(value) else { throw fail("channel_max \"\(value)\" is not a number in 0...65535") }
                self.channelMax = count
            case "connection_timeout":
                guard let amount = Self.positiveDuration(value) else {
                    throw fail("connection_timeout \"\(value)\" is not a positive number of milliseconds")
                }
                self.connectionTimeout = amount
            case "request_timeout":
                guard let amount = Self.positiveDuration(value) else {
                    throw fail("request_timeout \"\(value)\" is not a positive number of milliseconds")
                }
                self.requestTimeout = amount
            case "connection_name":
                self.connectionName = value
            default:
                continue
            }
        }
    }

    /// Parses a comma-separated list of `amqp://` or `amqps://` URLs, one per node of a cluster
    /// (a single URL is a list of one): the first gives every setting, the others their host and
    /// port (``failoverEndpoints``), and must agree with the first on scheme, user, password and
    /// virtual host. A URL naming a node listed before it (the same host, in any case, and port)
    /// adds nothing: `amqp://h/v,amqp://h:5672/v` is one node, tried once a round.
    ///
    /// - Throws: ``AMQPError`` with code ``AMQPError/Code-swift.struct/invalidConfiguration``
    ///   for a bad URL or one that disagrees with the first.
    public init(urlList: String, tls: TLS = TLS()) throws(AMQPError) {
        let parts = urlList.split(separator: ",", omittingEmptySubsequences: false).map { part -> String in
            String(part.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        }
        guard let first = parts.first, !first.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw AMQPError(code: .invalidConfiguration, message: "invalid AMQP URL list: an empty entry")
        }
        try self.init(url: first, tls: tls)
        for (index, part) in parts.enumerated().dropFirst() {
            let other = try AMQPConfiguration(url: part, tls: tls)
            guard (other.tls == nil) == (self.tls == nil), other.user == self.user, other.password == self.password,
                other.virtualHost == self.virtualHost
            else {
                throw AMQPError(
                    code: .invalidConfiguration,
                    message: "invalid AMQP URL list: URL \(index + 1) differs from the first in scheme, user, password or virtual host"
                )
            }
            let named = self.endpoints.contains { $0.port == other.port && $0.host.lowercased() == other.host.lowercased() }
            if !named { self.failoverEndpoints.append(Endpoint(host: other.host, port: other.port)) }
        }
    }

    /// A positive duration written as milliseconds (`1500`, `1500ms`) or seconds (`2s`).
    static func positiveDuration(_ value: String) -> TimeAmount? {
        if value.hasSuffix("s"), !value.hasSuffix("ms"), let seconds = Int64(value.dropLast()), seconds > 0 {
            return .seconds(seconds)
        }
        if let milliseconds = Int64(value.hasSuffix("ms") ? String(value.dropLast(2)) : value), milliseconds > 0 {
            return .milliseconds(milliseconds)
        }
        return nil
    }

    /// Decodes `%XX` escapes; a malformed escape or invalid UTF-8 is an error.
    static func percentDecoded(_ text: Substring, what: String) throws(AMQPError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw AMQPError(code: .invalidConfiguration, message: "invalid AMQP URL: a bad percent escape in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw AMQPError(code: .invalidConfiguration, message: "invalid AMQP URL: the \(what) is not UTF-8 once decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
