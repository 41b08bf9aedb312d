import Foundation
import NIOCore

/// One STOMP frame as the broker sent it.
struct StompFrame: Sendable, CustomStringConvertible {
    var command: String
    var headers: [String: String]
    var body: String

    init?(_ text: String) {
        guard let split = text.range(of: "\n\n") else { return nil }
        var lines = text[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return nil }
        self.command = String(lines.removeFirst())
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            if headers[name] == nil { headers[name] = String(line[line.index(after: colon)...]) }
        }
        self.headers = headers
        // The body ends at the NUL; EOLs may follow it.
        self.body = String(text[split.upperBound...].prefix { $0 != "\0" })
    }

    var description: String { "\(command) \(headers) \(body.prefix(200))" }
}

/// A STOMP 1.2 session over the broker's Web-STOMP WebSocket, for tests.
struct StompSocket {
    var session: TCPSession
    /// The broker's answer to CONNECT: CONNECTED, ERROR, or nil when the socket closed.
    var connectReply: StompFrame?

    /// Connects to Web-STOMP, sends CONNECT with `login` and `passcode`, and runs `body`.
    static func with<T: Sendable>(
        login: String, passcode: String, deadline: TimeAmount = .seconds(20),
        _ body: (inout StompSocket) async throws -> T
    ) async throws -> T {
        let url = BrokerEnvironment.stompURL
        let host = url.host ?? "127.0.0.1"
        let port = url.port ?? 15674
        return try await withTCPSession(host: host, port: port, deadline: deadline) { session in
            let path = url.path.isEmpty ? "/ws" : url.path
            try await session.write(Array(WebSocketFrames.upgradeRequest(host: host, port: port, path: path, subprotocol: "v12.stomp").utf8))
            let head = try await session.read { WebSocketFrames.responseHead(from: &$0) }
            guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("WebSocket upgrade refused: \(head)") }
            var socket = StompSocket(session: session)
            try await socket.send("CONNECT", [
                ("accept-version", "1.2"), ("host", BrokerEnvironment.vhost), ("login", login), ("passcode", passcode), ("heart-beat", "0,0"),
            ])
            socket.connectReply = try await socket.next()
            return try await body(&socket)
        }
    }

    mutating func send(_ command: String, _ headers: [(String, String)], body: String = "") async throws {
        let head = headers.map { "\($0.0):\($0.1)" }.joined(separator: "\n")
        try await session.write(WebSocketFrames.maskedText("\(command)\n\(head)\n\n\(body)\0"))
    }

    /// The next frame, or nil once the broker closed the socket (as Web-STOMP does on a refused
    /// SUBSCRIBE or SEND in this broker version).
    mutating func next() async throws -> StompFrame? {
        while true {
            let frame: (opcode: UInt8, payload: [UInt8])
            do {
                frame = try await session.read { WebSocketFrames.serverFrame(from: &$0) }
            } catch is TCPSession.Closed {
                return nil
            }
            if frame.opcode == 0x8 { return nil }
            let text = String(decoding: frame.payload, as: UTF8.self)
            if text.allSatisfy({ $0 == "\n" || $0 == "\r\n" }) { continue }
            guard let parsed = StompFrame(text) else { throw TestFailure("not a STOMP frame: \(text.prefix(200))") }
            return parsed
        }
    }

    /// Sends a frame with a receipt and reports whether the broker confirmed it (RECEIPT) or
    /// refused it (ERROR, or the socket closed). MESSAGE frames met on the way are returned too.
    mutating func refused(_ command: String, _ headers: [(String, String)], body: String = "") async throws -> Bool {
        let receipt = "r-\(UInt32.random(in: 0...UInt32.max))"
        try await send(command, headers + [("receipt", receipt)], body: body)
        while let frame = try await next() {
            if frame.command == "RECEIPT", frame.headers["receipt-id"] == receipt { return false }
            if frame.command == "ERROR" { return true }
        }
        return true
    }
}
