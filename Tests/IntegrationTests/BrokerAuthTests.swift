import AMQPClient
import Foundation
import Testing
import WarrenAuth
import WarrenCore

/// The broker asks Warren: browsers sign in with tokens, get exactly their own rights, and
/// the services' internal accounts keep working without the web role.
///
/// Serialized: each test runs the web role on the one port the broker asks.
@Suite(
    .serialized,
    .enabled(if: BrokerEnvironment.enabled && (AuthWebRole.configured || BrokerEnvironment.isCI), "no broker with an auth URL (WARREN_AUTH_HTTP_URL)")
)
struct BrokerAuthTests {
    init() {
        if BrokerEnvironment.isCI, !AuthWebRole.configured {
            Issue.record("CI is set but WARREN_AUTH_HTTP_URL is not: scripts/test exports it before starting the broker")
        }
    }

    static func session() -> String { ChatHarness.randomSession() }

    @Test func aValidTokenConnectsAndWrongPasswordsExpiredForgedAndRevokedTokensDoNot() async throws {
        try await AuthWebRole.withKeys { keys in
            let accounts = keys.accounts()
            try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                let alice = try await accounts.register(name: "alice\(UInt16.random(in: 0...9999))", password: "correct horse")
                let name = alice.name
                func connects(_ login: String, _ passcode: String) async throws -> Bool {
                    try await StompSocket.with(login: login, passcode: passcode) { $0.connectReply?.command == "CONNECTED" }
                }
                #expect(try await connects(name, alice.accessToken))
                #expect(try await !connects(name, "correct horse"), "the password is not the passcode")
                #expect(try await !connects(name, "wrong"))
                #expect(try await !connects("someone-else", alice.accessToken), "the token is alice's")
                let past = keys.accounts(now: { Int64(Date().timeIntervalSince1970) - 3600 })
                let expired = try await past.login(name: name, password: "correct horse", address: nil)
                #expect(try await !connects(name, expired.accessToken), "expired")
                let forger = AuthWebRole.Keys.inMemory().accounts()
                let forged = try await forger.register(name: name, password: "correct horse")
                #expect(try await !connects(name, forged.accessToken), "signed with another key")
                // Signing out ends the access token at once and the refresh token for good.
                let session = try await accounts.login(name: name, password: "correct horse", address: nil)
                #expect(try await connects(name, session.accessToken))
                try await accounts.logout(refreshToken: session.refreshToken, accessToken: nil)
                #expect(try await !connects(name, session.accessToken), "revoked")
                await #expect(throws: AuthFailure.self) { _ = try await accounts.refresh(session.refreshToken) }
                #expect(try await !connects("guest", "guest"), "no guest account")
            }
        }
    }

    @Test func aPersonGetsTheirOwnQueueAndNothingElse() async throws {
        try await ChatHarness.with(environment: ["WARREN_BROKER_AUTH": "on"], timeout: 60) { harness in
            try await harness.start(harness.login())
            let prefix = harness.topology.prefix
            try await AuthWebRole.withKeys { keys in
                let accounts = keys.accounts()
                try await AuthWebRole.with(prefix: prefix, accounts: accounts) {
                    let suffix = UInt16.random(in: 0...9999)
                    let alice = try await accounts.register(name: "alice\(suffix)", password: "correct horse")
                    let bob = try await accounts.register(name: "bob\(suffix)", password: "correct horse")
                    let aliceSession = Self.session(), bobSession = Self.session()

                    // Bob signs in and reads his tab's queue.
                    try await StompSocket.with(login: bob.name, passcode: bob.accessToken) { bobSocket in
                        #expect(bobSocket.connectReply?.command == "CONNECTED")
                        let bobQueue = try await Self.openTab(&bobSocket, login: bob.name, session: bobSession, prefix: prefix)
                        #expect(bobQueue == "\(prefix).user.\(bob.name).\(bobSession)")

                        // Alice may open her own tab.
                        let aliceQueue = try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { socket in
                            try await Self.openTab(&socket, login: alice.name, session: aliceSession, prefix: prefix)
                        }
                        // Each refusal closes Alice's socket (this broker version), so each gets its own.
                        func refused(_ command: String, _ headers: [(String, String)], body: String = "") async throws -> Bool {
                            try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { socket in
                                guard socket.connectReply?.command == "CONNECTED" else { throw TestFailure("alice cannot connect") }
                                return try await socket.refused(command, headers, body: body)
                            }
                        }
                        #expect(try await !refused("SUBSCRIBE", [("id", "0"), ("destination", "/amq/queue/\(aliceQueue)")]), "her own queue")
                        #expect(try await refused("SUBSCRIBE", [("id", "0"), ("destination", "/amq/queue/\(bobQueue)")]), "bob's queue")
                        #expect(try await refused("SEND", [("destination", "/exchange/\(prefix).room"), ("content-type", "application/json")], body: "{}"), "the room")
                        #expect(try await refused("SUBSCRIBE", [("id", "0"), ("destination", "/queue/\(prefix).mine")]), "declaring a queue")
                        // The services' queues take nothing from a person: a history request naming
                        // rooms she is not in, a forged event for the history, a job, a tick.
                        let topology = harness.topology
                        let request = String(decoding: HistoryRequest(.search("secret"), limit: 10, rooms: ["ops"]).encode(), as: UTF8.self)
                        for queue in [topology.inbox, topology.login, topology.historyRPC, topology.history, topology.botReverser, topology.powJobs, topology.powRPC, topology.cron, topology.dead] {
                            let headers = [("destination", "/amq/queue/\(queue)"), ("reply-to", "/temp-queue/h"), ("content-type", "application/json")]
                            #expect(try await refused("SEND", headers, body: request), "writing to \(queue)")
                        }
                        let forged = try Self.postJSON(text: "I am bob", login: bob.name, session: bobSession)
                        #expect(
                            try await refused("SEND", [("destination", Self.inbox(prefix)), ("user-id", bob.name)], body: forged),
                            "the broker refuses a user-id that is not hers"
                        )

                        // Without the header the broker passes it on, and the login service refuses it.
                        try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { socket in
                            try await socket.send("SEND", [("destination", Self.inbox(prefix)), ("content-type", "application/json")], body: forged)
                            let honest = try Self.postJSON(text: "hello from alice", login: alice.name, session: aliceSession)
                            try await socket.send(
                                "SEND",
                                [("destination", Self.inbox(prefix)), ("user-id", alice.name), ("content-type", "application/json")],
                                body: honest
                            )
                        }
                        // The login service handles the inbox in order: the forged post came first, so if
                        // it had been admitted, it would be the first message Bob sees.
                        let first = try await Self.firstMessage(&bobSocket)
                        #expect(first["from"] as? String == alice.name)
                        #expect(first["text"] as? String == "hello from alice")
                    }
                }
            }
        }
    }

    /// With `WARREN_GENERAL_STREAM=on` a browser reads general from its stream as the page does:
    /// subscribed before its login, `ack: client`, a prefetch, from `next`; each event carries
    /// its offset, and one ACK covers the ones before it.
    @Test func aPersonReadsGeneralsStreamLikeThePage() async throws {
        try await ChatHarness.with(environment: ["WARREN_BROKER_AUTH": "on", "WARREN_GENERAL_STREAM": "on"], timeout: 60) { harness in
            try await harness.start(harness.login())
            let prefix = harness.topology.prefix
            try await AuthWebRole.withKeys { keys in
                let accounts = keys.accounts()
                try await AuthWebRole.with(prefix: prefix, accounts: accounts) {
                    let alice = try await accounts.register(name: "alice\(UInt16.random(in: 0...9999))", password: "correct horse")
                    let session = Self.session()
                    try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { socket in
                        let stream = [
                            ("id", "general"), ("destination", "/amq/queue/\(harness.topology.generalStream)"), ("ack", "client"),
                            ("prefetch-count", "\(SharedRules.streamPrefetch)"), ("x-stream-offset", "next"),
                        ]
                        #expect(try await !socket.refused("SUBSCRIBE", stream), "general's stream")
                        _ = try await Self.openTab(&socket, login: alice.name, session: session, prefix: prefix)
                        // More than the prefetch: past it, only the cumulative ACKs let the broker go on.
                        let total = SharedRules.streamPrefetch + 2 * SharedRules.streamAckEvery
                        for index in 0..<total {
                            let post = try Self.postJSON(text: "post \(index)", login: alice.name, session: session)
                            try await socket.send("SEND", [("destination", Self.inbox(prefix)), ("user-id", alice.name)], body: post)
                        }
                        var offsets: [Int64] = []
                        var unacked = 0
                        while offsets.count < total, let frame = try await socket.next() {
                            guard frame.command == "MESSAGE", frame.headers["subscription"] == "general" else { continue }
                            unacked += 1
                            if unacked == SharedRules.streamAckEvery {
                                try await socket.send("ACK", [("id", try #require(frame.headers["ack"]))])
                                unacked = 0
                            }
                            let event = try JSONSerialization.jsonObject(with: Data(frame.body.utf8)) as? [String: Any]
                            guard event?["kind"] as? String == "message" else { continue }
                            offsets.append(try #require(frame.headers["x-stream-offset"].flatMap { Int64($0) }, "no offset: \(frame)"))
                        }
                        #expect(offsets.count == total, "the socket closed after \(offsets.count) of \(total)")
                        #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count, "offsets \(offsets)")
                    }
                }
            }
        }
    }

    @Test func withTheWebRoleStoppedBrowsersAreRefusedAndServicesStillConnect() async throws {
        let alice = try await AuthWebRole.withKeys { keys in
            let accounts = keys.accounts()
            return try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                try await accounts.register(name: "alice\(UInt16.random(in: 0...9999))", password: "correct horse")
            }
        }
        // The web role is stopped: nothing listens where the broker asks.
        let reply = try await StompSocket.with(login: alice.name, passcode: alice.accessToken) { $0.connectReply }
        #expect(reply?.command != "CONNECTED", "got \(String(describing: reply))")
        let connection = try await AMQPConnection.connect(configuration: try AMQPConfiguration(url: BrokerEnvironment.amqpURL.absoluteString))
        let channel = try await connection.openChannel()
        try await channel.close()
        try await connection.close()
        let browser = try await StompSocket.with(login: "browser", passcode: "browser") { $0.connectReply }
        #expect(browser?.command != "CONNECTED", "no shared browser account to fall back on: got \(String(describing: browser))")
    }

    @Test func fiftyWrongPasswordsInARowAreThrottled() async throws {
        try await AuthWebRole.withKeys { keys in
            let accounts = keys.accounts()
            try await AuthWebRole.with(prefix: "chat", accounts: accounts) {
                let name = "carol\(UInt16.random(in: 0...9999))"
                _ = try await accounts.register(name: name, password: "correct horse")
                var statuses: [Int] = []
                var lastHeaders = ""
                for _ in 0..<50 {
                    let response = try await AuthWebRole.postJSON("/api/login", #"{"name":"\#(name)","password":"wrong horse"}"#)
                    statuses.append(response.status)
                    lastHeaders = response.headers
                }
                #expect(statuses.prefix(5).allSatisfy { $0 == 401 })
                #expect(statuses.dropFirst(5).allSatisfy { $0 == 429 })
                #expect(lastHeaders.lowercased().contains("retry-after:"))
                let right = try await AuthWebRole.postJSON("/api/login", #"{"name":"\#(name)","password":"correct horse"}"#)
                #expect(right.status == 429, "still throttled with the right password")
            }
        }
    }

    // MARK: Helpers

    /// Logs a tab in through the login queue (reply on a temp queue), subscribes to its queue and
    /// returns the queue's name.
    static func openTab(_ socket: inout StompSocket, login: String, session: String, prefix: String) async throws -> String {
        let request = String(decoding: try JSONEncoder().encode(LoginRequest(action: .login, login: login, session: session)), as: UTF8.self)
        try await socket.send(
            "SEND",
            [("destination", "/exchange/\(prefix).in/\(prefix).login"), ("reply-to", "/temp-queue/login"), ("user-id", login), ("content-type", "application/json")],
            body: request
        )
        guard let reply = try await socket.next(), reply.command == "MESSAGE" else { throw TestFailure("no login reply") }
        let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        guard object?["ok"] as? Bool == true, let queue = object?["queue"] as? String else { throw TestFailure("login refused: \(reply.body)") }
        guard try await !socket.refused("SUBSCRIBE", [("id", "tab"), ("destination", "/amq/queue/\(queue)")]) else {
            throw TestFailure("cannot subscribe to the tab's own queue \(queue)")
        }
        return queue
    }

    /// Where a person sends posts (docs/broker-auth.md): the entry exchange, key the inbox's name.
    static func inbox(_ prefix: String) -> String { "/exchange/\(prefix).in/\(prefix).inbox" }

    static func postJSON(text: String, login: String, session: String) throws -> String {
        let post = InboxPost(text: text, clientId: UUID().uuidString, login: login, session: session)
        return String(decoding: try JSONEncoder().encode(post), as: UTF8.self)
    }

    /// The first room event of kind `message` that arrives on the socket.
    static func firstMessage(_ socket: inout StompSocket) async throws -> [String: Any] {
        while let frame = try await socket.next() {
            guard frame.command == "MESSAGE" else { continue }
            if let event = try JSONSerialization.jsonObject(with: Data(frame.body.utf8)) as? [String: Any], event["kind"] as? String == "message" {
                return event
            }
        }
        throw TestFailure("the socket closed before a message arrived")
    }
}
