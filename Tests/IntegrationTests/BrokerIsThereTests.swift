import NIOCore
import Testing

/// Proves the project's broker is really there: AMQP answers the protocol header with
/// connection.start, and Web-STOMP answers a STOMP 1.2 CONNECT with CONNECTED.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct BrokerIsThereTests {
    @Test func amqpAnswersTheProtocolHeaderWithConnectionStart() async throws {
        let url = BrokerEnvironment.amqpURL
        let frame = try await withTCPSession(host: url.host ?? "127.0.0.1", port: url.port ?? 5672) { session in
            try await session.write(Array("AMQP".utf8) + [0, 0, 9, 1])
            return try await session.read { buffer -> (type: UInt8, channel: UInt16, payload: [UInt8], end: UInt8)? in
                var view = buffer
                guard let type = view.readInteger(as: UInt8.self),
                      let channel = view.readInteger(as: UInt16.self),
                      let size = view.readInteger(as: UInt32.self),
                      let payload = view.readBytes(length: Int(size)),
                      let end = view.readInteger(as: UInt8.self) else { return nil }
                buffer = view
                return (type, channel, payload, end)
            }
        }
        #expect(frame.type == 1, "a method frame")
        #expect(frame.channel == 0)
        #expect(frame.end == 0xCE)
        #expect(Array(frame.payload.prefix(6)) == [0, 10, 0, 10, 0, 9], "connection.start, version 0-9")
        #expect(frame.payload.firstRange(of: Array("PLAIN".utf8)) != nil, "PLAIN among the mechanisms")
    }

    @Test func webStompAnswersConnectWithConnected() async throws {
        let reply = try await stompConnect(login: BrokerEnvironment.browserLogin, passcode: BrokerEnvironment.browserPasscode)
        #expect(reply.hasPrefix("CONNECTED\n"), "got: \(reply)")
        #expect(reply.contains("\nversion:1.2\n"), "got: \(reply)")
    }

    @Test func webStompRefusesAWrongPasscodeWithAnError() async throws {
        let reply = try await stompConnect(login: BrokerEnvironment.browserLogin, passcode: "not-the-passcode")
        #expect(reply.hasPrefix("ERROR\n"), "got: \(reply)")
    }

    /// Upgrades to a WebSocket, sends CONNECT and returns the first STOMP frame that comes back.
    private func stompConnect(login: String, passcode: String) async throws -> String {
        let url = BrokerEnvironment.stompURL
        let host = url.host ?? "127.0.0.1"
        let port = url.port ?? 15674
        return try await withTCPSession(host: host, port: port) { session in
            let path = url.path.isEmpty ? "/ws" : url.path
            try await session.write(Array(WebSocketFrames.upgradeRequest(host: host, port: port, path: path, subprotocol: "v12.stomp").utf8))
            let head = try await session.read { WebSocketFrames.responseHead(from: &$0) }
            try #require(head.hasPrefix("HTTP/1.1 101"), "WebSocket upgrade refused: \(head)")
            let connect = "CONNECT\naccept-version:1.2\nhost:\(BrokerEnvironment.vhost)\nlogin:\(login)\npasscode:\(passcode)\nheart-beat:0,0\n\n\0"
            try await session.write(WebSocketFrames.maskedText(connect))
            while true {
                let frame = try await session.read { WebSocketFrames.serverFrame(from: &$0) }
                if frame.opcode == 0x8 { return "websocket closed" }
                let text = String(decoding: frame.payload, as: UTF8.self)
                if !text.allSatisfy({ $0 == "\n" || $0 == "\r\n" }) { return text }
            }
        }
    }
}
