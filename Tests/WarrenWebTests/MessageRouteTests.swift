import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WarrenAuth
import WarrenCore
@testable import WarrenWeb

/// A stand-in for the broker: records what it is asked to post and answers as told.
final class FakePostPublisher: PostPublishing, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [InboxPost] = []
    let answer: @Sendable (InboxPost) throws(PostPublishError) -> PostOutcome

    init(answer: @escaping @Sendable (InboxPost) throws(PostPublishError) -> PostOutcome = { .admitted(id: "event-\($0.clientId)") }) {
        self.answer = answer
    }

    var posts: [InboxPost] { self.lock.withLock { self.recorded } }

    func publish(_ post: InboxPost) async throws(PostPublishError) -> PostOutcome {
        self.lock.withLock { self.recorded.append(post) }
        return try self.answer(post)
    }
}

@Suite("/api/messages: posts with a bearer token")
struct MessageRouteTests {
    let fixture = AccountsFixture()

    func app(_ posts: (any PostPublishing)?) -> some ApplicationProtocol {
        buildApplication(configuration: fixture.web.configuration, brokerReachable: { true }, accounts: fixture.accounts, posts: posts, logger: .quiet)
    }

    /// Registers `name` and returns its access token.
    func token(_ client: some TestClientProtocol, _ name: String = "alice") async throws -> String {
        let response = try await client.postJSON("/api/register", ["name": name, "password": "correct horse"])
        #expect(response.status == .created)
        return try #require(try json(response)["accessToken"] as? String)
    }

    func post(_ client: some TestClientProtocol, _ body: [String: Any], token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.postJSON("/api/messages", body, headers: headers)
    }

    @Test func aPostGoesOutAsTheTokensOwnerAndAnswersWithTheEventID() async throws {
        let publisher = FakePostPublisher()
        try await app(publisher).test(.router) { client in
            let token = try await self.token(client)
            let response = try await post(client, ["text": "  hello from curl  ", "clientId": "bot-1"], token: token)
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try json(response)
            #expect(body["ok"] as? Bool == true)
            #expect(body["id"] as? String == "event-bot-1")
            #expect(body["clientId"] as? String == "bot-1")
            #expect(body["from"] as? String == "alice")
            // The login service trims and admits; the web role sends the text as written.
            #expect(publisher.posts == [InboxPost(text: "  hello from curl  ", clientId: "bot-1", login: "alice", session: APIPost.session)])

            let generated = try await post(client, ["text": "no id of mine"], token: token)
            #expect(generated.status == .created)
            let clientId = try #require(try json(generated)["clientId"] as? String)
            #expect(UUID(uuidString: clientId) != nil, "a UUID is made when the client sends no id")
            #expect(publisher.posts.last?.clientId == clientId)
        }
    }

    @Test func aMissingExpiredForgedOrRevokedTokenIs401AndNothingIsPosted() async throws {
        let publisher = FakePostPublisher()
        try await app(publisher).test(.router) { client in
            let token = try await self.token(client)
            let missing = try await post(client, ["text": "hi"], token: nil)
            #expect(missing.status == .unauthorized)
            #expect(try json(missing)["code"] as? String == "token.missing")
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")

            let garbage = try await post(client, ["text": "hi"], token: "not-a-token")
            #expect(garbage.status == .unauthorized)
            #expect(try json(garbage)["code"] as? String == "token.invalid")
            #expect(garbage.headers[.wwwAuthenticate]?.contains("invalid_token") == true)

            let other = AccountService(
                store: fixture.store, key: SigningKey(bytes: Array(repeating: 9, count: 32))!, hasher: PasswordHasher(rounds: 1_000),
                now: { [clock = fixture.clock] in clock.now }
            )
            let forged = try await other.login(name: "alice", password: "correct horse", address: nil)
            #expect(try await post(client, ["text": "hi"], token: forged.accessToken).status == .unauthorized, "signed with another key")

            let refreshOnly = try await client.postJSON("/api/login", ["name": "alice", "password": "correct horse", "includeRefreshToken": true])
            let refresh = try #require(try json(refreshOnly)["refreshToken"] as? String)
            #expect(try await post(client, ["text": "hi"], token: refresh).status == .unauthorized, "a refresh token is no access token")

            let revoked = try #require(try json(refreshOnly)["accessToken"] as? String)
            _ = try await client.postJSON("/api/logout", ["refreshToken": refresh])
            #expect(try await post(client, ["text": "hi"], token: revoked).status == .unauthorized, "signed out")

            fixture.clock.advance(AccountService.accessLifetime)
            #expect(try await post(client, ["text": "hi"], token: token).status == .unauthorized, "expired")
            #expect(publisher.posts.isEmpty)
        }
    }

    @Test func textIsCheckedByTheChatsRulesBeforeAnythingIsSent() async throws {
        let publisher = FakePostPublisher()
        try await app(publisher).test(.router) { client in
            let token = try await self.token(client)
            func refused(_ body: [String: Any], _ status: HTTPResponse.Status = .badRequest) async throws -> String? {
                let response = try await post(client, body, token: token)
                #expect(response.status == status, "\(body)")
                let reply = try json(response)
                #expect(reply["ok"] as? Bool == false)
                #expect((reply["error"] as? String)?.isEmpty == false)
                return reply["code"] as? String
            }
            #expect(try await refused(["text": " \n "]) == "text.empty")
            #expect(try await refused(["text": "!pow"]) == "text.empty")
            #expect(try await refused(["text": String(repeating: "a", count: Limits.textMaxCharacters + 1)]) == "text.tooLong")
            #expect(try await refused(["text": "tab\there"]) == "text.controlCharacter")
            #expect(try await refused(["text": "hi", "clientId": "no spaces please"]) == "clientId.invalidCharacter")
            #expect(try await refused(["clientId": "x"]) == "request.malformed")
            #expect(try await refused(["text": 42]) == "request.malformed")
            let form = try await client.execute(
                uri: "/api/messages", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "text/plain"],
                body: ByteBuffer(string: "hello")
            )
            #expect(form.status == .unsupportedMediaType)
            let huge = try await client.execute(
                uri: "/api/messages", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                body: ByteBuffer(string: "{\"text\": \"" + String(repeating: "a", count: MessageRoutes.maximumBody) + "\"}")
            )
            #expect(huge.status == .contentTooLarge)
            #expect(publisher.posts.isEmpty)
            // The longest text allowed goes through.
            let longest = try await post(client, ["text": String(repeating: "é", count: Limits.textMaxCharacters)], token: token)
            #expect(longest.status == .created)
        }
    }

    @Test func theBrokersAnswerSetsTheStatus() async throws {
        let queued = FakePostPublisher { _ in .queued }
        try await app(queued).test(.router) { client in
            let response = try await post(client, ["text": "later", "clientId": "c1"], token: try await self.token(client, "user1"))
            #expect(response.status == .accepted)
            let body = try json(response)
            #expect(body["queued"] as? Bool == true)
            #expect(body["clientId"] as? String == "c1")
            #expect(body["id"] == nil)
        }
        let refusing = FakePostPublisher { _ in .refused(Refusal(.loginNotVouched, "No.")) }
        try await app(refusing).test(.router) { client in
            let response = try await post(client, ["text": "hi"], token: try await self.token(client, "user2"))
            #expect(response.status == .badRequest)
            #expect(try json(response)["code"] as? String == "login.notVouched")
        }
        let down = FakePostPublisher { _ throws(PostPublishError) in throw .unavailable("The web server has no connection to the broker right now.") }
        try await app(down).test(.router) { client in
            let response = try await post(client, ["text": "hi"], token: try await self.token(client, "user3"))
            #expect(response.status == .serviceUnavailable)
            #expect(try json(response)["code"] as? String == "post.unavailable")
            #expect((try json(response)["error"] as? String)?.contains("no connection") == true)
        }
        try await app(nil).test(.router) { client in
            let response = try await post(client, ["text": "hi"], token: try await self.token(client, "user4"))
            #expect(response.status == .serviceUnavailable)
        }
    }
}
