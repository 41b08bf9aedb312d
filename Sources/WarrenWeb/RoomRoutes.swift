import HTTPTypes
import Hummingbird
import NIOCore
import WarrenAuth
import WarrenCore
import WarrenStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rooms API, for the page and for people and bots that do not speak STOMP (docs/api.md):
///
/// - `GET /api/rooms`: the asker's rooms with unread counts and mention marks, and the public rooms;
/// - `POST /api/rooms` `{"name", "visibility": "public" | "private"}`: a new room, its maker a member;
/// - `POST /api/rooms/{id}/join`, `/leave`, `/invite` `{"name"}`, `/read` `{"id"}`;
/// - `POST /api/dm` `{"name"}`: the direct-message room with that person, made on first use;
/// - `GET /api/rooms/{id}/history?before=ID&limit=N`, `GET /api/rooms/{id}/search?q=TEXT&limit=N`,
///   `GET /api/rooms/{id}/members` (with who is online);
/// - `POST /api/rooms/{id}/messages` `{"text", "clientId"?}`: as `POST /api/messages`, in that room.
///
/// Every request needs the bearer access token (401). The store says who belongs where; a change
/// is made in the store first, then on the broker (bind or unbind through ``RoomRouting``), then
/// the person's tabs are told with a `rooms` event. Refusals are `{"ok": false, "code", "error"}`
/// with 400 (bad input), 403 (not a member, private room, a limit), 404 (no such room or person),
/// 409 (name taken), 503 (no broker or history). A private room is "not found" to non-members.
public enum RoomRoutes {
    /// What the routes need.
    public struct Dependencies: Sendable {
        let accounts: AccountService
        let store: Store
        let routing: (any RoomRouting)?
        let history: (any HistoryAnswering)?
        let posts: (any PostPublishing)?
        let now: @Sendable () -> Date

        /// Bundles what the routes use; nil routing, history or posts answer 503 where needed.
        public init(
            accounts: AccountService, store: Store, routing: (any RoomRouting)?, history: (any HistoryAnswering)?,
            posts: (any PostPublishing)?, now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.accounts = accounts
            self.store = store
            self.routing = routing
            self.history = history
            self.posts = posts
            self.now = now
        }
    }

    /// The most unread posts counted per room ("99+" beyond).
    public static let unreadCap = 100
    /// The most public rooms listed, and members listed.
    public static let listLimit = 200

    /// One room in `GET /api/rooms`.
    struct RoomEntry: Encodable {
        var id: String
        var name: String
        var visibility: RoomVisibility
        var unread: Int?
        var mentioned: Bool?
        var readUpTo: String?
        var member: Bool
    }

    struct RoomsReply: Encodable {
        var ok = true
        var rooms: [RoomEntry]
        var publicRooms: [RoomEntry]
    }

    struct RoomReply: Encodable {
        var ok = true
        var room: ChatRoom
    }

    struct MembersReply: Encodable {
        var ok = true
        var members: [String]
        /// The members with a tab connected now; absent when the broker could not be asked.
        var online: [String]?
    }

    struct Failure: Error {
        var status: HTTPResponse.Status
        var refusal: Refusal
    }

    struct NameBody: Decodable {
        var name: String?
        var visibility: String?
        var id: String?
    }

    /// Adds the routes.
    public static func add(to router: Router<WarrenRequestContext>, _ deps: Dependencies) {
        func route(_ handler: @escaping @Sendable (Request, String, WarrenRequestContext) async throws -> Response)
            -> @Sendable (Request, WarrenRequestContext) async throws -> Response
        {
            { request, context in
                do {
                    let login = try MessageRoutes.author(request, accounts: deps.accounts)
                    return try await handler(request, login, context)
                } catch let failure as MessageRoutes.Failure {
                    return try Self.respond(failure.status, Refusal(Refusal.Code(rawValue: failure.code), failure.message), headers: failure.headers)
                } catch let failure as Failure {
                    return try Self.respond(failure.status, failure.refusal)
                } catch let refusal as Refusal {
                    return try Self.respond(Self.status(of: refusal), refusal)
                }
            }
        }
        router.get("api/rooms", use: route { _, login, _ in try await Self.list(login, deps) })
        router.post("api/rooms", use: route { request, login, _ in try await Self.create(request, login, deps) })
        router.post("api/dm", use: route { request, login, _ in try await Self.direct(request, login, deps) })
        router.post("api/rooms/:id/join", use: route { _, login, context in try await Self.join(try Self.roomID(context), login, deps) })
        router.post("api/rooms/:id/leave", use: route { _, login, context in try await Self.leave(try Self.roomID(context), login, deps) })
        router.post("api/rooms/:id/invite", use: route { request, login, context in
            try await Self.invite(try Self.roomID(context), request, login, deps)
        })
        router.post("api/rooms/:id/remove", use: route { request, login, context in
            try await Self.remove(try Self.roomID(context), request, login, deps)
        })
        router.post("api/rooms/:id/read", use: route { request, login, context in
            try await Self.read(try Self.roomID(context), request, login, deps)
        })
        router.get("api/rooms/:id/members", use: route { _, login, context in
            try await Self.members(try Self.roomID(context), login, deps)
        })
        router.get("api/rooms/:id/history", use: route { request, login, context in
            try await Self.history(try Self.roomID(context), request, login, deps)
        })
        router.get("api/rooms/:id/search", use: route { request, login, context in
            try await Self.search(try Self.roomID(context), request, login, deps)
        })
        router.post("api/rooms/:id/messages", use: route { request, login, context in
            let room = try await Self.memberRoom(try Self.roomID(context), login, deps)
            return try await MessageRoutes.post(request, accounts: deps.accounts, posts: deps.posts, room: room.id)
        })
    }

    // MARK: Handlers

    static func list(_ login: String, _ deps: Dependencies) async throws -> Response {
        var rooms: [RoomEntry] = []
        for membership in try await deps.store.rooms.memberships(of: login) {
            let unread = try await deps.store.events.unread(room: membership.room.id, after: membership.readUpTo, reader: login, cap: unreadCap)
            rooms.append(
                RoomEntry(
                    id: membership.room.id, name: membership.room.name, visibility: membership.room.visibility,
                    unread: unread.count, mentioned: unread.mentioned, readUpTo: membership.readUpTo, member: true
                )
            )
        }
        let mine = Set(rooms.map(\.id))
        let open = try await deps.store.rooms.publicRooms(limit: listLimit).filter { !mine.contains($0.id) }.map {
            RoomEntry(id: $0.id, name: $0.name, visibility: $0.visibility, member: false)
        }
        return try apiJSON(RoomsReply(rooms: rooms, publicRooms: open), headers: noStore)
    }

    static func create(_ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let body = try await Self.body(request)
        let visibility = RoomVisibility(rawValue: body.visibility ?? RoomVisibility.public.rawValue)
        guard let visibility, visibility != .direct else {
            throw Failure(status: .badRequest, refusal: Refusal(.roomInvalid, "\"visibility\" is \"public\" or \"private\"."))
        }
        let room = try ChatRoom.named(body.name ?? "", visibility: visibility, by: login, at: deps.now())
        try await deps.store.rooms.createRoom(room)
        try await Self.route(bind: true, login, room, deps, notice: "You made \(room.name).")
        return try apiJSON(RoomReply(room: room), status: .created, headers: noStore)
    }

    static func direct(_ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let other = try Validation.login(try await Self.body(request).name ?? "")
        guard let account = try await deps.store.accounts.account(named: other) else {
            throw Failure(status: .notFound, refusal: Refusal(.roomUnknownPerson, "Nobody is called \(other)."))
        }
        let room = try await deps.store.rooms.directRoom(login, account.name, at: deps.now())
        try await Self.route(bind: true, login, room, deps, notice: "A direct message with \(account.name).")
        try await Self.route(bind: true, account.name, room, deps, notice: "A direct message from \(login).")
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    static func join(_ id: String, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.existing(id, deps)
        if !(try await deps.store.rooms.isMember(room: room.id, member: login)) {
            if let refusal = MembershipRules.joinRefusal(room) {
                // A private room is not found by those who may not know of it.
                if room.visibility != .public { throw Failure(status: .notFound, refusal: Self.notFound(id)) }
                throw refusal
            }
            try await deps.store.rooms.addMember(login, to: room, at: deps.now())
        }
        try await Self.route(bind: true, login, room, deps, notice: "You joined \(room.name).")
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    static func leave(_ id: String, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        if let refusal = MembershipRules.leaveRefusal(room) { throw refusal }
        try await deps.store.rooms.removeMember(login, from: room.id)
        try await Self.route(bind: false, login, room, deps, notice: "You left \(room.name).")
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    static func invite(_ id: String, _ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        if let refusal = MembershipRules.inviteRefusal(room, inviterIsMember: true) { throw refusal }
        let name = try Validation.login(try await Self.body(request).name ?? "")
        guard let account = try await deps.store.accounts.account(named: name) else {
            throw Failure(status: .notFound, refusal: Refusal(.roomUnknownPerson, "Nobody is called \(name)."))
        }
        try await deps.store.rooms.addMember(account.name, to: room, at: deps.now())
        try await Self.route(bind: true, account.name, room, deps, notice: "\(login) invited you to \(room.name).")
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    /// The room's creator takes someone out of it: out of the store first (so they can no longer
    /// read its history or post there), then off the broker (their tabs stop getting it at once),
    /// then told.
    static func remove(_ id: String, _ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        let name = try Validation.login(try await Self.body(request).name ?? "")
        if let refusal = MembershipRules.removeRefusal(room, remover: login, member: name) { throw refusal }
        guard try await deps.store.rooms.isMember(room: room.id, member: name) else {
            throw Failure(status: .notFound, refusal: Refusal(.roomNotMember, "\(name) is not a member of \(room.name)."))
        }
        try await deps.store.rooms.removeMember(name, from: room.id)
        try await Self.route(bind: false, name, room, deps, notice: "\(login) removed you from \(room.name).")
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    static func read(_ id: String, _ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        let eventID = try await Self.body(request).id ?? ""
        guard EventID(rawValue: eventID) != nil else {
            throw Failure(status: .badRequest, refusal: Refusal(.historyIDInvalid, "\"id\" is the id of the newest event read."))
        }
        if try await deps.store.rooms.markRead(room: room.id, member: login, upTo: eventID) {
            // The person's other tabs (and devices) move their count too.
            try? await deps.routing?.notify(login, Self.notice(login, room, "read", deps, inReplyTo: eventID))
        }
        return try apiJSON(RoomReply(room: room), headers: noStore)
    }

    static func members(_ id: String, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        let members = try await deps.store.rooms.members(of: room.id, limit: listLimit)
        // Who is online is a nicety: without the broker the members are still listed.
        let online = try? await deps.routing?.online(members)
        return try apiJSON(MembersReply(members: members, online: online.map { members.filter($0.contains) }), headers: noStore)
    }

    static func history(_ id: String, _ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        let query = request.uri.queryParameters
        let before = query["before"].map(String.init)
        let limit = try HistoryRoutes.limit(query["limit"].map { ["limit": $0] } ?? [:])
        let historyRequest = try HistoryRequest(before.map { .before($0) } ?? .latest, limit: limit, rooms: [room.id]).validate()
        return await HistoryRoutes.ask(historyRequest, history: deps.history)
    }

    static func search(_ id: String, _ request: Request, _ login: String, _ deps: Dependencies) async throws -> Response {
        let room = try await Self.memberRoom(id, login, deps)
        let query = request.uri.queryParameters
        let limit = try HistoryRoutes.limit(query["limit"].map { ["limit": $0] } ?? [:])
        let historyRequest = try HistoryRequest(.search(query["q"].map(String.init) ?? ""), limit: limit, rooms: [room.id]).validate()
        return await HistoryRoutes.ask(historyRequest, history: deps.history)
    }

    /// The rooms `GET /api/search` covers for a person: those they belong to, read from the
    /// store within ``storeTimeout``.
    static func roomsOf(_ deps: Dependencies) -> HistoryRoutes.RoomsOf {
        { login in try await withDeadline(storeTimeout, "the rooms of \(login)") { try await deps.store.rooms.roomIDs(of: login) } }
    }

    /// How long a search waits for the store to say which rooms are the asker's.
    static let storeTimeout: Duration = .seconds(5)

    // MARK: Pieces

    static let noStore: HTTPFields = [.cacheControl: "no-store"]

    static func roomID(_ context: WarrenRequestContext) throws -> String {
        try Validation.roomID(context.parameters.get("id") ?? "")
    }

    static func notFound(_ id: String) -> Refusal {
        Refusal(.roomNotFound, "There is no room \(id) (or it is private).")
    }

    static func existing(_ id: String, _ deps: Dependencies) async throws -> ChatRoom {
        guard let room = try await deps.store.rooms.room(id: id) else { throw Failure(status: .notFound, refusal: Self.notFound(id)) }
        return room
    }

    /// The room, when `login` belongs to it; a private room is "not found" to others.
    static func memberRoom(_ id: String, _ login: String, _ deps: Dependencies) async throws -> ChatRoom {
        let room = try await Self.existing(id, deps)
        guard try await deps.store.rooms.isMember(room: room.id, member: login) else {
            if room.visibility != .public { throw Failure(status: .notFound, refusal: Self.notFound(id)) }
            throw Refusal(.roomNotMember, "You are not a member of \(room.name); join it first.")
        }
        return room
    }

    /// Binds or unbinds on the broker, then tells the person's tabs. Without a broker link the
    /// store has changed but the routing waits for their next sign-in: answered 503, so the
    /// caller knows.
    static func route(bind: Bool, _ login: String, _ room: ChatRoom, _ deps: Dependencies, notice: String) async throws {
        guard let routing = deps.routing else {
            throw Failure(status: .serviceUnavailable, refusal: Refusal(.serviceBusy, "Saved; it takes effect at your next sign-in (no broker link now)."))
        }
        do {
            if bind { try await routing.bind(login, room: room.id) } else { try await routing.unbind(login, room: room.id) }
            try await routing.notify(login, Self.notice(login, room, notice, deps))
        } catch {
            throw Failure(status: .serviceUnavailable, refusal: Refusal(.serviceBusy, "Saved, but the broker did not answer: \(error)"))
        }
    }

    static func notice(_ login: String, _ room: ChatRoom, _ text: String, _ deps: Dependencies, inReplyTo: String? = nil) -> RoomEvent {
        RoomEvent(id: EventIDGenerator().nextString(), kind: .rooms, from: "warren", text: text, at: deps.now(), inReplyTo: inReplyTo, room: room.id)
    }

    static func body(_ request: Request) async throws -> NameBody {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw Failure(status: .contentTooLarge, refusal: Refusal(.requestTooLarge, "The request body is larger than 16 KiB."))
        }
        if bytes.readableBytes == 0 { return NameBody() }
        do {
            return try JSONDecoder().decode(NameBody.self, from: Data(bytes.readableBytesView))
        } catch {
            throw Failure(status: .badRequest, refusal: Refusal(.malformedRequest, "The request body is not a JSON object."))
        }
    }

    static func status(of refusal: Refusal) -> HTTPResponse.Status {
        switch refusal.code {
        case .roomNameTaken: .conflict
        case .roomNotFound, .roomUnknownPerson: .notFound
        case .roomNotMember, .roomPrivate, .roomTooManyRooms, .roomTooManyMembers, .roomCannotLeave, .roomNotCreator: .forbidden
        default: .badRequest
        }
    }

    struct FailureReply: Encodable {
        var ok = false
        var code: String
        var error: String
    }

    static func respond(_ status: HTTPResponse.Status, _ refusal: Refusal, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.cacheControl] = "no-store"
        return try apiJSON(FailureReply(code: refusal.code.rawValue, error: refusal.message), status: status, headers: fields)
    }
}
