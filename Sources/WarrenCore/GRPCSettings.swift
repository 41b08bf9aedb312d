import Foundation

/// Where Warren's gRPC servers listen and which PoW workers the reverser calls (docs/grpc.md).
public struct GRPCSettings: Sendable, Hashable {
    /// `WARREN_GRPC_HOST`: the address both servers listen on (loopback by default).
    public var host: String
    /// `WARREN_GRPC_PORT`: the web role's `warren.v1.Chat`.
    public var chatPort: MetricsPort
    /// `WARREN_POW_GRPC_PORT`: the PoW worker's `warren.v1.ProofOfWork`.
    public var powPort: MetricsPort
    /// `WARREN_POW_GRPC_TARGETS`: the PoW workers the reverser spreads `!grpc` calls over.
    public var powTargets: [HostPort]

    /// Creates the settings.
    public init(host: String, chatPort: MetricsPort, powPort: MetricsPort, powTargets: [HostPort]) {
        self.host = host
        self.chatPort = chatPort
        self.powPort = powPort
        self.powTargets = powTargets
    }
}

/// A `host:port` address to connect to.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// A host name or an IPv4 address.
    public var host: String
    /// 1 to 65535.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port`; nil for anything else (no port, a port out of range, spaces).
    public init?(_ text: Substring) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        let portText = text[text.index(after: colon)...]
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == ":" }),
            !portText.isEmpty, portText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let port = Int(portText), (1...65_535).contains(port)
        else { return nil }
        self.init(host: String(host), port: port)
    }

    /// The most addresses a list may hold.
    public static let listMax = 64

    /// Reads a comma-separated list of 1 to ``listMax`` addresses (spaces around each allowed).
    public static func list(_ text: String) -> [HostPort]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...listMax).contains(parts.count) else { return nil }
        var addresses: [HostPort] = []
        for part in parts {
            guard let address = HostPort(Substring(part)) else { return nil }
            addresses.append(address)
        }
        return addresses
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }
}
