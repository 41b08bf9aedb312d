import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WarrenAuth
import WarrenStore
@testable import WarrenWeb

/// A clock the tests move by hand.
final class SecondsClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Int64 = 1_800_000_000
    var now: Int64 { lock.withLock { seconds } }
    func advance(_ by: Int64) { lock.withLock { seconds += by } }
}

/// An app with accounts in memory, a fast hasher and a clock the test controls.
final class AccountsFixture: Sendable {
    let web = try! WebFixture()
    let clock = SecondsClock()
    let key = SigningKey(bytes: Array(repeating: 5, count: 32))!
    let store = MemoryAccountStore()

    var accounts: AccountService {
        let clock = self.clock
        return AccountService(store: store, key: key, hasher: PasswordHasher(rounds: 1_000), now: { clock.now })
    }

    func app(accounts: AccountService? = nil) -> some ApplicationProtocol {
        buildApplication(configuration: web.configuration, brokerReachable: { true }, accounts: accounts ?? self.accounts, logger: .quiet)
    }
}

extension TestClientProtocol {
    func postJSON(_ path: String, _ object: [String: Any], headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        let data = try JSONSerialization.data(withJSONObject: object)
        return try await execute(uri: path, method: .post, headers: fields, body: ByteBuffer(bytes: data))
    }

    /// The broker backend's plain-text answer, or "failed: ..." when the request itself failed.
    func postForm(_ path: String, _ fields: [(String, String)]) async -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        let response: TestResponse
        do {
            response = try await execute(
                uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body)
            )
        } catch {
            return "failed: \(error)"
        }
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
        return String(buffer: response.body)
    }
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

/// The value of the refresh cookie a response sets.
func refreshCookie(_ response: TestResponse) -> String? {
    guard let header = response.headers[values: .setCookie].first(where: { $0.hasPrefix("warren_refresh=") }) else { return nil }
    return String(header.dropFirst("warren_refresh=".count).prefix { $0 != ";" })
}

@Suite("/api: register, login, refresh, logout")
struct AccountEndpointTests {
    @Test func registrationSignsInWithAnAccessTokenAndAStrictHttpOnlyCookie() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            let response = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try json(response)
            #expect(body["name"] as? String == "alice")
            #expect(body["tokenType"] as? String == "Bearer")
            #expect(body["expiresIn"] as? Int == 900)
            #expect((body["accessToken"] as? String)?.split(separator: ".").count == 3)
            #expect(body["refreshToken"] == nil, "a browser gets it only as a cookie")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("warren_refresh=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/api/refresh"))
            #expect(cookie.contains("Max-Age=604800"))
        }
    }

    @Test func aClientMayAskForTheRefreshTokenInTheBody() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            let response = try await client.postJSON("/api/register", ["name": "bot", "password": "correct horse", "includeRefreshToken": true])
            let refresh = try #require(try json(response)["refreshToken"] as? String)
            let next = try await client.postJSON("/api/refresh", ["refreshToken": refresh])
            #expect(next.status == .ok)
            #expect(try json(next)["refreshToken"] is String, "a body-token client keeps getting it in the body")
        }
    }

    @Test func registrationErrorsSayWhatIsWrong() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            _ = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            let taken = try await client.postJSON("/api/register", ["name": "Alice", "password": "correct horse"])
            #expect(taken.status == .conflict)
            #expect(try json(taken)["error"] as? String == "name_taken")
            let weak = try await client.postJSON("/api/register", ["name": "bob", "password": "short"])
            #expect(weak.status == .badRequest)
            #expect(try json(weak)["error"] as? String == "weak_password")
            #expect((try json(weak)["message"] as? String)?.contains("at least 8") == true)
            let badName = try await client.postJSON("/api/register", ["name": "bob smith", "password": "correct horse"])
            #expect(try json(badName)["error"] as? String == "invalid_name")
            let missing = try await client.postJSON("/api/register", ["name": "bob"])
            #expect(missing.status == .badRequest)
            #expect((try json(missing)["message"] as? String)?.contains("password") == true)
            let form = try await client.execute(
                uri: "/api/register", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "name=bob&password=correcthorse")
            )
            #expect(form.status == .unsupportedMediaType)
            let garbage = try await client.execute(
                uri: "/api/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{nope")
            )
            #expect(garbage.status == .badRequest)
            #expect(try json(garbage)["error"] as? String == "invalid_request")
        }
    }

    @Test func aFailedLoginNeverSaysWhetherTheNameExists() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            _ = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            let wrong = try await client.postJSON("/api/login", ["name": "alice", "password": "wrong horse"])
            let unknown = try await client.postJSON("/api/login", ["name": "nobody", "password": "wrong horse"])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(String(buffer: wrong.body) == String(buffer: unknown.body))
            #expect(try json(wrong)["error"] as? String == "invalid_credentials")
            let right = try await client.postJSON("/api/login", ["name": "alice", "password": "correct horse"])
            #expect(right.status == .ok)
            #expect(try json(right)["name"] as? String == "alice")
        }
    }

    @Test func repeatedFailuresAreThrottledWithRetryAfter() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            _ = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<8 {
                statuses.append(try await client.postJSON("/api/login", ["name": "alice", "password": "wrong horse"]).status)
            }
            #expect(statuses == Array(repeating: .unauthorized, count: 5) + Array(repeating: .tooManyRequests, count: 3))
            let throttled = try await client.postJSON("/api/login", ["name": "alice", "password": "correct horse"])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] == "60")
            #expect(try json(throttled)["error"] as? String == "too_many_attempts")
            fixture.clock.advance(60)
            #expect(try await client.postJSON("/api/login", ["name": "alice", "password": "correct horse"]).status == .ok)
        }
    }

    @Test func refreshRotatesTheCookieAndAReuseEndsTheSession() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            let registered = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            let first = try #require(refreshCookie(registered))
            let rotated = try await client.execute(uri: "/api/refresh", method: .post, headers: [.cookie: "warren_refresh=\(first)"])
            #expect(rotated.status == .ok)
            let second = try #require(refreshCookie(rotated))
            #expect(second != first)
            #expect(try json(rotated)["refreshToken"] == nil)
            let reused = try await client.execute(uri: "/api/refresh", method: .post, headers: [.cookie: "warren_refresh=\(first)"])
            #expect(reused.status == .unauthorized)
            #expect(try json(reused)["error"] as? String == "token_reused")
            let after = try await client.execute(uri: "/api/refresh", method: .post, headers: [.cookie: "warren_refresh=\(second)"])
            #expect(after.status == .unauthorized, "the whole family ended")
            let none = try await client.execute(uri: "/api/refresh", method: .post)
            #expect(none.status == .unauthorized)
            #expect(try json(none)["error"] as? String == "invalid_token")
        }
    }

    @Test func logoutRevokesAndClearsTheCookie() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            let registered = try await client.postJSON("/api/register", ["name": "alice", "password": "correct horse"])
            let access = try #require(try json(registered)["accessToken"] as? String)
            let refresh = try #require(refreshCookie(registered))
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", access)]) == "allow")
            let out = try await client.execute(uri: "/api/logout", method: .post, headers: [.authorization: "Bearer \(access)"])
            #expect(out.status == .noContent)
            let cleared = try #require(out.headers[values: .setCookie].first { $0.hasPrefix("warren_refresh=") })
            #expect(cleared.contains("Max-Age=0"))
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", access)]) == "deny")
            let again = try await client.execute(uri: "/api/refresh", method: .post, headers: [.cookie: "warren_refresh=\(refresh)"])
            #expect(again.status == .unauthorized)
            let nothing = try await client.execute(uri: "/api/logout", method: .post)
            #expect(nothing.status == .unauthorized)
        }
    }

    @Test func withoutAccountsTheRoutesAreAbsent() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            let response = try await client.postJSON("/api/login", ["name": "alice", "password": "correct horse"])
            #expect(response.status == .notFound)
        }
    }
}

@Suite("/auth: the broker's HTTP auth backend")
struct BrokerAuthEndpointTests {
    let session = "BBBBBBBBBBBBBBBBBBBBBB"

    func signedIn(_ client: some TestClientProtocol, name: String = "alice") async throws -> String {
        let response = try await client.postJSON("/api/register", ["name": name, "password": "correct horse"])
        return try #require(try json(response)["accessToken"] as? String)
    }

    @Test func userAllowsOnlyAnUnexpiredTokenOfThatName() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            let token = try await signedIn(client)
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", token), ("vhost", "test-vhost")]) == "allow")
            #expect(await client.postForm("/auth/user", [("username", "bob"), ("password", token)]) == "deny")
            #expect(await client.postForm("/auth/user", [("username", "warren"), ("password", "warren")]) == "deny")
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", "correct horse")]) == "deny")
            #expect(await client.postForm("/auth/user", [("username", "alice")]) == "deny")
            #expect(await client.postForm("/auth/user", []) == "deny")
            fixture.clock.advance(900)
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", token)]) == "deny", "expired")
        }
    }

    @Test func aTokenSignedWithAnotherKeyIsDenied() async throws {
        let fixture = AccountsFixture()
        let other = AccountService(store: MemoryAccountStore(), key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
        let forged = try await other.register(name: "alice", password: "correct horse").accessToken
        try await fixture.app().test(.router) { client in
            #expect(await client.postForm("/auth/user", [("username", "alice"), ("password", forged)]) == "deny")
        }
    }

    @Test func vhostResourceAndTopicFollowThePolicy() async throws {
        let fixture = AccountsFixture()
        try await fixture.app().test(.router) { client in
            // The fixture's prefix is team-a.chat and its vhost test-vhost.
            #expect(await client.postForm("/auth/vhost", [("username", "alice"), ("vhost", "test-vhost"), ("ip", "127.0.0.1")]) == "allow")
            #expect(await client.postForm("/auth/vhost", [("username", "alice"), ("vhost", "/")]) == "deny")
            func resource(_ kind: String, _ name: String, _ permission: String, user: String = "alice") async -> String {
                await client.postForm("/auth/resource", [
                    ("username", user), ("vhost", "test-vhost"), ("resource", kind), ("name", name), ("permission", permission), ("tags", ""),
                ])
            }
            #expect(await resource("queue", "team-a.chat.user.alice.\(session)", "read") == "allow")
            #expect(await resource("queue", "team-a.chat.user.bob.\(session)", "read") == "deny")
            #expect(await resource("queue", "amq.gen-Xyz", "configure") == "allow")
            #expect(await resource("queue", "amq.gen-Xyz", "read") == "allow")
            #expect(await resource("exchange", "team-a.chat.in", "write") == "allow")
            #expect(await resource("exchange", "amq.default", "write") == "deny")
            #expect(await resource("queue", "team-a.chat.inbox", "write") == "allow")
            #expect(await resource("exchange", "team-a.chat.room", "write") == "deny")
            #expect(await resource("queue", "team-a.chat.inbox", "configure") == "deny")
            #expect(await resource("queue", "some.queue", "configure") == "deny")
            #expect(await resource("topic", "amq.topic", "write") == "deny")
            #expect(await resource("queue", "amq.gen-Xyz", "delete") == "deny")
            #expect(await client.postForm("/auth/topic", [
                ("username", "alice"), ("vhost", "test-vhost"), ("resource", "topic"), ("name", "amq.topic"), ("permission", "write"),
                ("routing_key", "x"), ("variable_map.username", "alice"), ("variable_map.vhost", "test-vhost"),
            ]) == "deny")
        }
    }
}

@Suite("Form bodies")
struct FormBodyTests {
    @Test func fieldsAreDecoded() {
        let form = FormBody("username=alice&password=a%2Bb+c%3D&vhost=%2F&variable_map.username=alice&empty=&username=bob")
        #expect(form["username"] == "alice", "the first of a repeated field")
        #expect(form["password"] == "a+b c=")
        #expect(form["vhost"] == "/")
        #expect(form["variable_map.username"] == "alice")
        #expect(form["empty"] == "")
    }

    @Test func malformedEscapesMakeAFieldUnusable() {
        let form = FormBody("a=%zz&b=%C3%28&c=ok")
        #expect(form["a"] == nil)
        #expect(form["b"] == nil, "not UTF-8")
        #expect(form["c"] == "ok")
    }
}
