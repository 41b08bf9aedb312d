import Foundation
import NIOCore
import NIOPosix
import Testing
import WarrenAuth
import WarrenCore

/// The web role under abuse, over real sockets and a real broker: a registration flood from one
/// address, a full password hashing queue, an oversized body, too many connections.
///
/// Serialized: each test runs the web role on the one port the broker asks.
@Suite(
    .serialized,
    .enabled(if: BrokerEnvironment.enabled && (AuthWebRole.configured || BrokerEnvironment.isCI), "no broker with an auth URL (WARREN_AUTH_HTTP_URL)")
)
struct WebAbuseTests {
    static let password = "correct horse"

    static func name(_ stem: String) -> String { "\(stem)\(UInt16.random(in: 0...9999))" }

    static func register(_ name: String) async throws -> (status: Int, headers: String, body: String) {
        try await AuthWebRole.postJSON("/api/register", #"{"name":"\#(name)","password":"\#(password)"}"#)
    }

    @Test func aRegistrationFloodFromOneAddressIsThrottled() async throws {
        try await AuthWebRole.withKeys { keys in
            let accounts = keys.accounts()
            try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                let stem = Self.name("flood")
                var statuses: [Int] = []
                var last = (status: 0, headers: "", body: "")
                for index in 0..<12 {
                    last = try await Self.register("\(stem)x\(index)")
                    statuses.append(last.status)
                }
                #expect(statuses.prefix(5).allSatisfy { $0 == 201 }, "\(statuses)")
                #expect(statuses.dropFirst(5).allSatisfy { $0 == 429 }, "\(statuses)")
                #expect(last.headers.lowercased().contains("retry-after:"))
                #expect(last.body.contains(#""error":"too_many_attempts""#))
                // A taken name and a free one get the same refusal: the flood learns nothing.
                let taken = try await Self.register("\(stem)x0")
                let free = try await Self.register("\(stem)free")
                #expect(taken.status == 429 && free.status == 429)
                #expect(taken.body == free.body)
                // Signing in is not registering: the names made still sign in.
                let login = try await AuthWebRole.postJSON("/api/login", #"{"name":"\#(stem)x0","password":"\#(Self.password)"}"#)
                #expect(login.status == 200)
            }
        }
    }

    @Test func withTheHashingQueueFullSignInIsRefusedAtOnceWhileBrokerAuthAndConfigAnswer() async throws {
        try await AuthWebRole.withKeys { keys in
            let pool = PasswordHashPool(threads: 1, queueCapacity: 1)
            let accounts = AccountService(
                store: keys.store, key: keys.key, hasher: PasswordHasher(rounds: 1_000), hashing: pool, logger: AuthWebRole.quietLogger
            )
            try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                let alice = try await accounts.register(name: Self.name("alice"), password: Self.password)
                // Hold the thread and fill the queue.
                let gate = HashGate()
                let held = (0..<2).map { _ in Task { try await pool.run { gate.pass() } } }
                defer {
                    gate.open(for: 2)
                }
                let filled = try await Self.within(seconds: TestPatience.scaled(10)) { pool.waiting == 1 }
                #expect(filled, "one job runs and one waits")

                let started = ContinuousClock.now
                let refused = try await AuthWebRole.postJSON("/api/login", #"{"name":"\#(alice.name)","password":"\#(Self.password)"}"#)
                let took = started.duration(to: .now)
                #expect(refused.status == 503)
                #expect(refused.headers.lowercased().contains("retry-after: 1"))
                #expect(refused.body.contains(#""error":"busy""#))
                #expect(took < .seconds(TestPatience.scaled(2)), "answered without waiting for the pool: \(took)")
                let registration = try await Self.register(Self.name("bob"))
                #expect(registration.status == 503)

                // The page's configuration and the broker's questions still answer.
                let config = try await AuthWebRole.get("/config.json")
                #expect(config.status == 200 && config.body.contains("stompURL"))
                let form = "username=\(alice.name)&password=\(alice.accessToken)"
                let user = try await AuthWebRole.post("/auth/user", contentType: "application/x-www-form-urlencoded", form)
                #expect(user.status == 200 && user.body == "allow")
                // And a browser connects through the real broker, which asks /auth/user and /auth/vhost.
                let reply = try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { $0.connectReply?.command }
                #expect(reply == "CONNECTED")

                gate.open(for: 2)
                for task in held { try await task.value }
                let login = try await AuthWebRole.postJSON("/api/login", #"{"name":"\#(alice.name)","password":"\#(Self.password)"}"#)
                #expect(login.status == 200, "signs in once the pool has room")
            }
        }
    }

    @Test func anOversizedBodyIsRefusedWithAClearError() async throws {
        try await AuthWebRole.withKeys { keys in
            try await AuthWebRole.with(prefix: "chat", accounts: keys.accounts()) {
                let large = String(repeating: "a", count: 100_000)
                for path in ["/api/messages", "/api/register", "/index.html"] {
                    let response = try await AuthWebRole.post(path, contentType: "application/json", large)
                    #expect(response.status == 413, "\(path)")
                    #expect(response.body.contains(#""error":"request_too_large""#), "\(path): \(response.body)")
                }
                // Under the server's limit, a route's own smaller limit still answers.
                let medium = try await AuthWebRole.postJSON("/api/register", String(repeating: " ", count: 20_000) + "{}")
                #expect(medium.status == 413)
                let config = try await AuthWebRole.get("/config.json")
                #expect(config.status == 200)
            }
        }
    }

    @Test func tooManyConnectionsFromOneAddressAreRefusedUntilOneCloses() async throws {
        try await AuthWebRole.withKeys { keys in
            try await AuthWebRole.with(prefix: "chat", accounts: keys.accounts(), connectionsPerAddress: 4) {
                var idle: [any Channel] = []
                for _ in 0..<4 {
                    idle.append(
                        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                            .connect(host: "127.0.0.1", port: AuthWebRole.port).get()
                    )
                }
                // Accepted connections are counted on several event loops: let the four settle first.
                try await Task.sleep(for: .milliseconds(500))
                let refused = try await AuthWebRole.get("/config.json")
                #expect(refused.status == 429)
                #expect(refused.headers.lowercased().contains("retry-after: 1"))
                #expect(refused.body.contains(#""error":"too_many_connections""#))
                // The broker's questions still pass.
                let user = try await AuthWebRole.post("/auth/user", contentType: "application/x-www-form-urlencoded", "username=a&password=b")
                #expect(user.status == 200 && user.body == "deny")
                try await idle.removeLast().close().get()
                let admitted = try await Self.eventually(seconds: TestPatience.scaled(5)) {
                    try await AuthWebRole.get("/config.json").status == 200
                }
                #expect(admitted, "a closed connection gives its place back")
                for connection in idle { try await connection.close().get() }
            }
        }
    }

    /// Polls `condition` until it holds or `seconds` pass.
    static func within(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        try await eventually(seconds: seconds) { condition() }
    }

    static func eventually(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

/// Holds pool threads busy until the test opens it.
final class HashGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    func pass() { semaphore.wait() }

    func open(for count: Int) { for _ in 0..<count { semaphore.signal() } }
}
