import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenAuth
import WarrenCore
import WarrenStore
@testable import WarrenWeb

/// `GET /api/ops` without a broker: who is let in, and what the management API's address means.
@Suite("The operator's page's endpoint")
struct OpsPageRouteTests {
    @Test("401 without a token, 403 for a non-admin, 503 for an admin when no management API is set; /ops leads to the page")
    func whoIsLetIn() async throws {
        let accounts = AccountService(store: MemoryAccountStore(), key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
        let root = try await accounts.register(name: "root", password: "correct horse").accessToken
        let bob = try await accounts.register(name: "bob", password: "correct horse").accessToken
        var configuration = try WebFixture().configuration
        configuration.admins = ["root"]
        let app = buildApplication(configuration: configuration, brokerReachable: { true }, accounts: accounts, logger: .quiet)
        try await app.test(.router) { client in
            for (token, status, code) in [(nil, HTTPResponse.Status.unauthorized, "token.missing"), ("nonsense", .unauthorized, "token.invalid"),
                                          (bob, .forbidden, "ops.forbidden"), (root, .serviceUnavailable, "ops.unavailable")] {
                var headers = HTTPFields()
                if let token { headers[.authorization] = "Bearer \(token)" }
                try await client.execute(uri: "/api/ops", method: .get, headers: headers) { response in
                    #expect(response.status == status, "\(code)")
                    let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(body?["code"] as? String == code)
                    #expect(body?["ok"] as? Bool == false)
                }
            }
            try await client.execute(uri: "/ops", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ops.html")
            }
        }
    }

    @Test("The management API's account is the URL's, else the AMQP URL's; the vhost is the AMQP URL's")
    func managementAccount() throws {
        let own = try #require(ManagementAPI(url: "http://ops:s%40cret@rabbit:15999", amqpURL: "amqp://warren:warren@rabbit:5672/warren"))
        #expect(own.host == "rabbit" && own.port == 15999 && own.vhost == "warren")
        #expect(own.authorization == "Basic " + Data("ops:s@cret".utf8).base64EncodedString())
        let borrowed = try #require(ManagementAPI(url: "http://127.0.0.1:15672", amqpURL: "amqp://svc:pw@a:5672/%2F,amqp://svc:pw@b:5672/%2F"))
        #expect(borrowed.authorization == "Basic " + Data("svc:pw".utf8).base64EncodedString())
        #expect(borrowed.vhost == "/")
        #expect(ManagementAPI(url: "https://rabbit", amqpURL: "amqp://a@b/c") == nil, "no TLS client: http only")
        #expect(ManagementAPI.encoded("/") == "%2F")
    }

    @Test("The shared queues' labels are the names without the prefix, and no role owns the dead letters")
    func sharedQueues() throws {
        let topology = try Topology(prefix: "staging.chat")
        let labels = SharedQueues.all(topology).map { SharedQueues.label($0, topology) }
        #expect(labels == ["login", "inbox", "bot.reverser", "pow.jobs", "pow.rpc", "history", "history.rpc", "cron", "cron.last", "dead"])
        #expect(!SharedQueues.roles(topology).flatMap(\.queues).contains(topology.dead))
    }
}
