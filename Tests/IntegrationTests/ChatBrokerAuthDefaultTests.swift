import AMQPClient
import Foundation
import Testing
import WarrenCore

/// Broker auth is on unless it is turned off: with nothing set, the login service refuses a
/// request the broker does not vouch for, and admits one it does.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatBrokerAuthDefaultTests {
    @Test func byDefaultOnlyARequestWhoseUserIDIsItsLoginIsAdmitted() async throws {
        // An empty value means "not set": the harness otherwise turns the check off.
        try await ChatHarness.with(environment: ["WARREN_BROKER_AUTH": ""]) { chat in
            #expect(chat.configuration.brokerAuth)
            try await chat.start(chat.login())
            // One channel per request: each ends by leaving its reply consumer.
            func request(_ login: String, session: String = ChatHarness.randomSession(), userID: String? = nil) async throws -> LoginReply {
                let channel = try await chat.connection.openChannel()
                defer { Task { try? await channel.close() } }
                return try await chat.request(LoginRequest(action: .login, login: login, session: session), on: channel, userID: userID)
            }

            // The harness connects as the service account, so the broker lets it set no
            // user_id, or its own name, and nothing else.
            let account = try #require(BrokerEnvironment.amqpURL.user)
            let unvouched = try await request("alice")
            #expect(!unvouched.ok)
            #expect(unvouched.code == Refusal.Code.loginNotVouched.rawValue, "got \(unvouched)")
            let someoneElse = try await request("alice", userID: account)
            #expect(someoneElse.code == Refusal.Code.loginNotVouched.rawValue, "user id \(account) is not alice: got \(someoneElse)")

            let session = ChatHarness.randomSession()
            let vouched = try await request(account, session: session, userID: account)
            #expect(vouched.ok, "got \(vouched)")
            #expect(vouched.queue == chat.topology.userQueue(login: account, session: session))
        }
    }
}
