import AMQPProtocol
import NIOCore
import Testing

/// Proves the project's broker is really there: AMQP answers the protocol header with
/// connection.start, and Web-STOMP answers a STOMP 1.2 CONNECT with CONNECTED.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct BrokerIsThereTests {
    @Test func amqpAnswersTheProtocolHeaderWithConnectionStart() async throws {
        let url = BrokerEnvironment.amqpURL
        let frame = try await withTCPSession(host: url.host ?? "127.0.0.1", port: url.port ?? 5672) { session in
            var header = ByteBuffer()
            AMQPProtocolHeader.amqp091.encode(into: &header)
            try await session.write(header.readableBytesView)
            var decoder = AMQPFrameDecoder()
            return try await session.read { try decoder.decode(buffer: &$0) }
        }
        #expect(frame.channel == 0)
        guard case .method(let method) = frame.payload, let start = Method.Connection.Start(method) else {
            Issue.record("expected connection.start, got \(frame)")
            return
        }
        #expect(start.versionMajor == 0 && start.versionMinor == 9, "version 0-9")
        #expect(String(buffer: start.mechanisms).split(separator: " ").contains("PLAIN"))
        guard case .longString(let product)? = start.serverProperties["product"] else {
            Issue.record("no product in the server properties: \(start.serverProperties)")
            return
        }
        #expect(String(buffer: product) == "RabbitMQ")
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
