import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenAuth
import WarrenCore
import WarrenStore
import WarrenWeb

/// A stand-in for the history role: records what it was asked and answers as told.
actor FakeHistory: HistoryAnswering {
    enum Behaviour: Sendable {
        case events([RoomEvent])
        case refuse(Refusal)
        case fail(HistoryAskError)
    }

    private let behaviour: Behaviour
    private(set) var requests: [HistoryRequest] = []

    init(_ behaviour: Behaviour) {
        self.behaviour = behaviour
    }

    func ask(_ request: HistoryRequest) async throws(HistoryAskError) -> HistoryReply {
        self.requests.append(request)
        switch self.behaviour {
        case .events(let events): return .success(events)
        case .refuse(let refusal): return .failure(refusal)
        case .fail(let error): throw error
        }
    }
}

@Suite("/api/history and /api/search")
struct HistoryRouteTests {
    static let id = "01JF0000000000000000000001"
    static let event = RoomEvent(id: id, kind: .message, from: "alice", text: "<b>hello</b>", at: Date(timeIntervalSince1970: 1_790_000_000))

    /// Runs one GET against an app whose history is `history`; hands over status and body.
    func get(_ uri: String, history: (any HistoryAnswering)?, _ check: @escaping @Sendable (HTTPResponse.Status, HistoryReply, HTTPFields) throws -> Void) async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, history: history, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                let reply = try HistoryReply.decode(Data(buffer: response.body))
                try check(response.status, reply, response.headers)
            }
        }
    }

    @Test("without before: the latest events, limit 50 by default, as JSON, uncached")
    func latest() async throws {
        let history = FakeHistory(.events([Self.event]))
        try await self.get("/api/history", history: history) { status, reply, headers in
            #expect(status == .ok)
            #expect(reply == .success([Self.event]))
            #expect(headers[.contentType] == "application/json; charset=utf-8")
            #expect(headers[.cacheControl] == "no-store")
        }
        #expect(await history.requests == [HistoryRequest(.latest, limit: 50)])
    }

    @Test("before and limit are passed on; search text is trimmed")
    func passedOn() async throws {
        let history = FakeHistory(.events([]))
        try await self.get("/api/history?before=\(Self.id)&limit=7", history: history) { status, _, _ in #expect(status == .ok) }
        try await self.get("/api/search?q=%20hello%20world%20&limit=20", history: history) { status, reply, _ in
            #expect(status == .ok)
            #expect(reply.events == [])
        }
        #expect(await history.requests == [HistoryRequest(.before(Self.id), limit: 7), HistoryRequest(.search("hello world"), limit: 20)])
    }

    @Test(
        "a bad request is refused with 400 and the reason, without asking the history role",
        arguments: [
            ("/api/history?limit=0", "history.limitInvalid", "The limit is 0"),
            ("/api/history?limit=201", "history.limitInvalid", "ask for 1 to 200"),
            ("/api/history?limit=ten", "history.limitInvalid", "is not a number"),
            ("/api/history?before=nope", "history.idInvalid", "\"nope\" is not an event id"),
            ("/api/search?q=%20%20", "history.queryInvalid", "The search text is empty."),
            ("/api/search", "history.queryInvalid", "The search text is empty."),
            ("/api/search?q=\(String(repeating: "x", count: 201))", "history.queryInvalid", "201 characters long"),
            ("/api/search?q=a%07b", "history.queryInvalid", "contains U+0007"),
        ]
    )
    func refused(uri: String, code: String, message: String) async throws {
        let history = FakeHistory(.events([Self.event]))
        try await self.get(uri, history: history) { status, reply, _ in
            #expect(status == .badRequest)
            #expect(reply.ok == false)
            #expect(reply.code == code)
            #expect(reply.error?.contains(message) == true, "\(reply.error ?? "no error")")
        }
        #expect(await history.requests.isEmpty)
    }

    @Test("the history role's own refusal: 400, or 503 when its store cannot answer")
    func roleRefusal() async throws {
        let refusing = FakeHistory(.refuse(Refusal(.historyQueryInvalid, "Bad search.")))
        try await self.get("/api/search?q=x", history: refusing) { status, reply, _ in
            #expect(status == .badRequest)
            #expect(reply == .failure(Refusal(.historyQueryInvalid, "Bad search.")))
        }
        let broken = FakeHistory(.refuse(Refusal(.historyUnavailable, "The store is down.")))
        try await self.get("/api/history", history: broken) { status, reply, _ in
            #expect(status == .serviceUnavailable)
            #expect(reply.error == "The store is down.")
        }
    }

    @Test("no reply in time: 504; no connection: 503; history off: 503, each with the reason")
    func unavailable() async throws {
        try await self.get("/api/history", history: FakeHistory(.fail(.timeout("No answer within 3000 ms.")))) { status, reply, _ in
            #expect(status == .gatewayTimeout)
            #expect(reply == .failure(Refusal(.historyUnavailable, "No answer within 3000 ms.")))
        }
        try await self.get("/api/search?q=x", history: FakeHistory(.fail(.unavailable("No broker.")))) { status, reply, _ in
            #expect(status == .serviceUnavailable)
            #expect(reply.error == "No broker.")
        }
        try await self.get("/api/history", history: nil) { status, reply, _ in
            #expect(status == .serviceUnavailable)
            #expect(reply.code == "history.unavailable")
            #expect(reply.error?.contains("WARREN_HISTORY=none") == true)
        }
    }

    @Test("with accounts, only a signed-in person may read the history: 401 without a valid token")
    func needsAToken() async throws {
        let accounts = AccountService(store: MemoryAccountStore(), key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
        let token = try await accounts.register(name: "alice", password: "correct horse").accessToken
        let history = FakeHistory(.events([Self.event]))
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, accounts: accounts, history: history, logger: .quiet)
        try await app.test(.router) { client in
            for (uri, headers) in [("/api/history", HTTPFields()), ("/api/search?q=hi", [.authorization: "Bearer not-a-token"])] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                    let reply = try HistoryReply.decode(Data(buffer: response.body))
                    #expect(reply.ok == false)
                    #expect(reply.code?.hasPrefix("token.") == true, "\(reply)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                }
            }
            #expect(await history.requests.isEmpty, "the history role was asked without a token")
            try await client.execute(uri: "/api/history?limit=3", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
                let reply = try HistoryReply.decode(Data(buffer: response.body))
                #expect(reply == .success([Self.event]))
            }
        }
        #expect(await history.requests == [HistoryRequest(.latest, limit: 3)])
    }

    @Test("a search covers the asker's rooms, as the store says, and nothing when the store fails")
    func searchCoversTheAskersRooms() async throws {
        let accounts = AccountService(store: MemoryAccountStore(), key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
        let alice = try await accounts.register(name: "alice", password: "correct horse").accessToken
        let bob = try await accounts.register(name: "bob", password: "correct horse").accessToken
        let history = FakeHistory(.events([Self.event]))
        struct StoreDown: Error {}
        let router = Router()
        HistoryRoutes.add(to: router, history: history, accounts: accounts) { login in
            if login == "bob" { throw StoreDown() }
            return [ChatRoom.general, "ops", "dm.5.alice.carol"]
        }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/api/search?q=hi&limit=5", method: .get, headers: [.authorization: "Bearer \(alice)"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/search?q=hi", method: .get, headers: [.authorization: "Bearer \(bob)"]) { response in
                #expect(response.status == .serviceUnavailable)
                let reply = try HistoryReply.decode(Data(buffer: response.body))
                #expect(reply.code == Refusal.Code.historyUnavailable.rawValue)
            }
            // History reads general, whatever rooms the person has.
            try await client.execute(uri: "/api/history?limit=2", method: .get, headers: [.authorization: "Bearer \(alice)"]) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(
            await history.requests == [
                HistoryRequest(.search("hi"), limit: 5, rooms: [ChatRoom.general, "ops", "dm.5.alice.carol"]),
                HistoryRequest(.latest, limit: 2),
            ]
        )
    }
}
