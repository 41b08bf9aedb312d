import AMQPClient
import AMQPProtocol
import Foundation
import NIOCore
import Testing

/// Proves the project's broker is really there: AMQP answers the protocol header with
/// connection.start, and Web-STOMP answers a person's STOMP 1.2 CONNECT (their name and access
/// token, checked by the web role through the broker's HTTP auth backend) with CONNECTED.
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

    @Test(.enabled(if: AuthWebRole.configured || BrokerEnvironment.isCI, "no auth URL (WARREN_AUTH_HTTP_URL) for the web role"))
    func webStompAnswersAPersonsConnectWithConnected() async throws {
        try await withPerson { name, token in
            let reply = try await StompSocket.with(login: name, passcode: token) { $0.connectReply }
            #expect(reply?.command == "CONNECTED", "got: \(String(describing: reply))")
            #expect(reply?.headers["version"] == "1.2", "got: \(String(describing: reply))")
        }
    }

    @Test(.enabled(if: AuthWebRole.configured || BrokerEnvironment.isCI, "no auth URL (WARREN_AUTH_HTTP_URL) for the web role"))
    func webStompRefusesAWrongPasscodeWithAnError() async throws {
        try await withPerson { name, _ in
            let reply = try await StompSocket.with(login: name, passcode: "not-the-passcode") { $0.connectReply }
            #expect(reply?.command == "ERROR", "got: \(String(describing: reply))")
        }
    }

    /// There is no shared account any more: its old name and password get nowhere, over
    /// Web-STOMP (with the web role up, which denies the name) or AMQP.
    @Test(.enabled(if: AuthWebRole.configured || BrokerEnvironment.isCI, "no auth URL (WARREN_AUTH_HTTP_URL) for the web role"))
    func theOldSharedBrowserAccountIsRefused() async throws {
        try await withPerson { _, _ in
            let reply = try await StompSocket.with(login: "browser", passcode: "browser") { $0.connectReply }
            #expect(reply?.command == "ERROR", "got: \(String(describing: reply))")
        }
        var url = try #require(URLComponents(url: BrokerEnvironment.amqpURL, resolvingAgainstBaseURL: false))
        url.user = "browser"
        url.password = "browser"
        var configuration = try AMQPConfiguration(url: try #require(url.string))
        configuration.connectionTimeout = .seconds(10)
        await #expect(throws: (any Error).self, "AMQP as browser/browser") {
            let connection = try await AMQPConnection.connect(configuration: configuration)
            try? await connection.close()
        }
    }

    /// Registers someone with the in-process web role, which the broker asks about them, and
    /// runs `body` with their name and access token while it runs.
    private func withPerson(_ body: @escaping @Sendable (String, String) async throws -> Void) async throws {
        try await AuthWebRole.withKeys { keys in
            let accounts = keys.accounts()
            try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                let person = try await accounts.register(name: "dora\(UInt16.random(in: 0...9999))", password: "correct horse")
                try await body(person.name, person.accessToken)
            }
        }
    }
}
