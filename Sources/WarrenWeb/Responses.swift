import Hummingbird
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of `GET /config.json`: what the page needs to reach the broker.
///
/// No credentials: each person signs in to the broker with their own name and access token.
public struct BrowserConfiguration: ResponseCodable, Equatable, Sendable {
    /// The Web-STOMP endpoint, e.g. `ws://127.0.0.1:15674/ws` (the first of ``stompURLs``).
    public var stompURL: String
    /// Every node's Web-STOMP endpoint: the page connects to one and moves to another when its
    /// node goes.
    public var stompURLs: [String]
    /// The broker virtual host for the STOMP `CONNECT` `host` header.
    public var vhost: String
    /// The prefix of broker names, e.g. `chat` for `/queue/chat.inbox`.
    public var prefix: String
    /// Leading zero bits a proof of work needs.
    public var powBits: Int
    /// General's stream, when general reaches tabs through one (the page subscribes to it
    /// before its login request, docs/design.md); absent otherwise.
    public var generalStream: String?

    /// Takes the browser-facing part of a web configuration.
    public init(_ configuration: WebConfiguration) {
        self.stompURLs = configuration.stompURLs
        self.stompURL = self.stompURLs[0]
        self.vhost = configuration.stompVHost
        self.prefix = configuration.prefix
        self.powBits = configuration.powBits
        self.generalStream = configuration.generalStream
    }

    /// Encodes the configuration as JSON.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try jsonResponse(self)
    }
}

/// The body of `GET /healthz`.
public struct HealthReport: ResponseCodable, Equatable, Sendable {
    /// `ok` when the broker is reachable, `unavailable` otherwise.
    public var status: String
    /// `reachable` or `unreachable`.
    public var broker: String
    /// Why the broker is unreachable; absent when it is reachable.
    public var reason: String?

    /// Describes a broker that is, or is not, reachable.
    public init(_ health: BrokerHealth) {
        self.status = health.reachable ? "ok" : "unavailable"
        self.broker = health.reachable ? "reachable" : "unreachable"
        self.reason = health.reason
    }

    /// Encodes the report as JSON.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try jsonResponse(self)
    }
}

/// JSON with sorted keys and unescaped slashes, so `stompURL` reads as the URL it is and the
/// bodies are byte-for-byte stable.
private func jsonResponse(_ value: some Encodable) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    return Response(
        status: .ok,
        headers: [.contentType: "application/json; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
    )
}
