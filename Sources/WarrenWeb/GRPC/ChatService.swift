import GRPCCore
import Logging
import NIOConcurrencyHelpers
import WarrenAuth
import WarrenCore
import WarrenGRPC
import WarrenStore

/// `warren.v1.Chat`, served by the web role over gRPC (docs/grpc.md): the chat for services and
/// bots, as the person whose access token is in the `authorization` metadata.
///
/// `Post` goes through ``PostSubmission``, the REST API's path (rules, inbox, login service);
/// `History` and `Search` ask the history role as `/api/rooms/{id}/history` and `/api/search`
/// do, for a room the person belongs to; `Subscribe` reads a tab queue of its own
/// (``TabSubscribing``) until the caller goes or the server shuts down. Errors are status codes:
/// UNAUTHENTICATED, INVALID_ARGUMENT (message `<refusal code>: <reason>`), PERMISSION_DENIED
/// (not a member), UNAVAILABLE (no broker, no history), DEADLINE_EXCEEDED.
public struct ChatService: Warren_V1_Chat.ServiceProtocol {
    /// What the service uses; nil parts answer UNAVAILABLE.
    public struct Dependencies: Sendable {
        let accounts: AccountService
        let rooms: (any RoomStore)?
        let posts: (any PostPublishing)?
        let history: (any HistoryAnswering)?
        let subscriber: (any TabSubscribing)?

        /// Bundles what the service uses.
        public init(
            accounts: AccountService, rooms: (any RoomStore)?, posts: (any PostPublishing)?, history: (any HistoryAnswering)?,
            subscriber: (any TabSubscribing)?
        ) {
            self.accounts = accounts
            self.rooms = rooms
            self.posts = posts
            self.history = history
            self.subscriber = subscriber
        }
    }

    let deps: Dependencies
    /// Set when the server shuts down: subscriptions end with OK.
    let stopping = NIOLockedValueBox(false)

    /// Creates the service.
    public init(_ deps: Dependencies) {
        self.deps = deps
    }

    /// Ends every subscription (within a quarter of a second) and refuses new ones: call it when
    /// the server begins its graceful shutdown.
    public func stop() {
        self.stopping.withLockedValue { $0 = true }
    }

    public func post(request: ServerRequest<Warren_V1_PostRequest>, context: ServerContext) async throws -> ServerResponse<Warren_V1_PostResponse> {
        let login = try self.author(request.metadata)
        let message = request.message
        let submitted: (post: InboxPost, taken: PostSubmission.Taken)
        do throws(PostSubmission.Failure) {
            submitted = try await PostSubmission.submit(
                text: message.text, clientId: message.clientID.isEmpty ? nil : message.clientID, login: login,
                room: message.room.isEmpty ? nil : message.room, posts: self.deps.posts
            )
        } catch {
            switch error {
            case .refused(let refusal): throw Self.error(refusal)
            case .unavailable(let reason): throw RPCError(code: .unavailable, message: reason)
            }
        }
        let answer = Warren_V1_PostResponse.with {
            $0.clientID = submitted.post.clientId
            $0.from = login
            switch submitted.taken {
            case .admitted(let id): $0.id = id
            case .queued: $0.queued = true
            }
        }
        return ServerResponse(message: answer)
    }

    public func history(request: ServerRequest<Warren_V1_HistoryRequest>, context: ServerContext) async throws -> ServerResponse<Warren_V1_Events> {
        let login = try self.author(request.metadata)
        let message = request.message
        let room = try await self.memberRoom(message.room, login)
        let query: HistoryRequest.Query = message.before.isEmpty ? .latest : .before(message.before)
        let limit = message.limit == 0 ? HistoryRoutes.defaultLimit : Int(clamping: message.limit)
        return ServerResponse(message: try await self.ask(HistoryRequest(query, limit: limit, rooms: [room])))
    }

    public func search(request: ServerRequest<Warren_V1_SearchRequest>, context: ServerContext) async throws -> ServerResponse<Warren_V1_Events> {
        let login = try self.author(request.metadata)
        let message = request.message
        let room = try await self.memberRoom(message.room, login)
        let limit = message.limit == 0 ? HistoryRoutes.defaultLimit : Int(clamping: message.limit)
        return ServerResponse(message: try await self.ask(HistoryRequest(.search(message.query), limit: limit, rooms: [room])))
    }

    public func subscribe(
        request: ServerRequest<Warren_V1_SubscribeRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Warren_V1_Event> {
        let login = try self.author(request.metadata)
        let message = request.message
        let session: String
        do throws(Refusal) {
            session = try Validation.session(message.session)
        } catch {
            throw Self.error(error)
        }
        var only: String? = nil
        if !message.room.isEmpty { only = try await self.memberRoom(message.room, login) }
        let room = only
        guard let subscriber = self.deps.subscriber else {
            throw RPCError(code: .unavailable, message: "This server has no link to the broker; nothing can be subscribed to.")
        }
        guard !self.stopping.withLockedValue({ $0 }) else {
            throw RPCError(code: .unavailable, message: "This server is shutting down; subscribe to another.")
        }
        let rooms = try await self.rooms(of: login)
        let stopping = self.stopping
        return StreamingServerResponse { writer in
            do {
                try await cancellingWithRPC {
                    try await subscriber.subscribe(
                        login: login, session: session, rooms: rooms, stop: { stopping.withLockedValue { $0 } },
                        deliver: { event in
                            if let room, event.room != room { return }
                            try await writer.write(Warren_V1_Event(event))
                        }
                    )
                }
            } catch is CancellationError {
                // The caller went away, or the server shuts down: nothing more to say.
            } catch let error as TabSubscribeError {
                throw RPCError(code: .unavailable, message: error.description)
            }
            return [:]
        }
    }

    // MARK: Pieces

    /// The person named by a valid, unrevoked access token in `authorization: Bearer <token>`.
    func author(_ metadata: Metadata) throws -> String {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw RPCError(code: .unauthenticated, message: "token.missing: send your access token as authorization: Bearer <token> (from /api/login).")
        }
        let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : header
        do throws(AuthFailure) {
            return try self.deps.accounts.authorize(accessToken: token).subject
        } catch {
            throw RPCError(code: .unauthenticated, message: "token.invalid: \(error.message)")
        }
    }

    /// The room's id when `login` belongs to it (general: everyone); a private room is "not found" to others.
    func memberRoom(_ given: String, _ login: String) async throws -> String {
        let id: String
        do throws(Refusal) {
            id = try Validation.roomID(given.isEmpty ? ChatRoom.general : given)
        } catch {
            throw Self.error(error)
        }
        if id == ChatRoom.general { return id }
        guard let rooms = self.deps.rooms else {
            throw RPCError(code: .unavailable, message: "This server has no store; only general can be read.")
        }
        let member: Bool
        do {
            member = try await rooms.isMember(room: id, member: login)
        } catch {
            throw RPCError(code: .unavailable, message: "The store did not answer: \(error)")
        }
        guard member else {
            throw RPCError(code: .permissionDenied, message: "\(Refusal.Code.roomNotMember.rawValue): you are not a member of \(id) (or it does not exist).")
        }
        return id
    }

    /// The rooms `login` belongs to, general always among them.
    func rooms(of login: String) async throws -> [String] {
        guard let rooms = self.deps.rooms else { return [ChatRoom.general] }
        do {
            let ids = try await rooms.memberships(of: login).map(\.room.id)
            return ids.contains(ChatRoom.general) ? ids : [ChatRoom.general] + ids
        } catch {
            throw RPCError(code: .unavailable, message: "The store did not answer: \(error)")
        }
    }

    /// Asks the history role a request, checked first.
    func ask(_ request: HistoryRequest) async throws -> Warren_V1_Events {
        let checked: HistoryRequest
        do throws(Refusal) {
            checked = try request.validate()
        } catch {
            throw Self.error(error)
        }
        guard let history = self.deps.history else {
            throw RPCError(code: .unavailable, message: "\(Refusal.Code.historyUnavailable.rawValue): history is off on this server (WARREN_HISTORY=none).")
        }
        let reply: HistoryReply
        do throws(HistoryAskError) {
            reply = try await history.ask(checked)
        } catch {
            switch error {
            case .timeout: throw RPCError(code: .deadlineExceeded, message: error.description)
            case .unavailable: throw RPCError(code: .unavailable, message: error.description)
            }
        }
        guard reply.ok else {
            let code = reply.code ?? Refusal.Code.historyUnavailable.rawValue
            let status: RPCError.Code = code == Refusal.Code.historyUnavailable.rawValue ? .unavailable : .invalidArgument
            throw RPCError(code: status, message: "\(code): \(reply.error ?? "the history service refused the request")")
        }
        return .with { $0.events = (reply.events ?? []).map(Warren_V1_Event.init) }
    }

    /// INVALID_ARGUMENT carrying the chat's refusal code: `text.tooLong: …`.
    static func error(_ refusal: Refusal) -> RPCError {
        let code: RPCError.Code = refusal.code == .roomNotMember ? .permissionDenied : .invalidArgument
        return RPCError(code: code, message: "\(refusal.code.rawValue): \(refusal.message)")
    }
}

extension ChatService {
    /// The web role's gRPC server of `warren.v1.Chat` on `WARREN_GRPC_HOST:WARREN_GRPC_PORT`
    /// (or `port`), nil when off; its shutdown ends the subscriptions.
    public static func server(
        configuration: WarrenConfiguration, deps: Dependencies, port: Int? = nil, logger: Logger
    ) -> GRPCServerService? {
        let chosen: Int
        if let port {
            chosen = port
        } else if case .port(let configured) = configuration.grpc.chatPort {
            chosen = configured
        } else {
            return nil
        }
        let service = ChatService(deps)
        return GRPCServerService(
            name: "warren.v1.Chat", host: configuration.grpc.host, port: chosen, services: [service], logger: logger,
            required: port != nil || configuration.sources[ConfigurationKey.grpcPort.rawValue] != .defaultValue,
            onShutdown: { service.stop() }
        )
    }
}
