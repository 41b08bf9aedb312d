import Hummingbird
import NIOCore
import WarrenAuth
import WarrenCore

/// `GET /api/history?before=ID&limit=N` and `GET /api/search?q=TEXT&limit=N`, answered by the
/// history role through `history` (over the broker; the web role has no database).
/// `/api/history` reads `general`; `/api/search` searches every room the asker belongs to (with
/// `roomsOf`, the store's memberships; without it, `general` only), never another room.
///
/// Bodies are ``WarrenCore/HistoryReply`` JSON: `{"events": […], "ok": true}` with 200; a request
/// the history role would refuse gets 400 with `{"code", "error", "ok": false}`; a history role
/// that cannot answer (its store failed, none running, no broker connection) 503; one that did
/// not answer in time 504. Without `before` the newest events come; `limit` defaults to
/// ``defaultLimit``. With accounts, only a signed-in person may ask: the access token as
/// `Authorization: Bearer`, else 401 (the room is for the people the broker lets in).
public enum HistoryRoutes {
    /// The `limit` when the query names none.
    public static let defaultLimit = 50

    /// The ids of the rooms a person belongs to (the store's memberships).
    public typealias RoomsOf = @Sendable (String) async throws -> [String]

    /// Adds both routes to `router`; with `history` nil (history off) they answer 503; with
    /// `accounts`, a request without a valid access token gets 401; with `accounts` and
    /// `roomsOf`, a search covers the asker's rooms (a store that fails answers 503).
    public static func add<Context: RequestContext>(
        to router: Router<Context>,
        history: (any HistoryAnswering)?,
        accounts: AccountService? = nil,
        roomsOf: RoomsOf? = nil
    ) {
        router.get("api/history") { request, _ in
            await HistoryRoutes.answer(request, history: history, accounts: accounts, roomsOf: nil) { query, _ throws(Refusal) in
                let before = query["before"].map(String.init)
                return HistoryRequest(before.map { HistoryRequest.Query.before($0) } ?? .latest, limit: try HistoryRoutes.limit(query))
            }
        }
        router.get("api/search") { request, _ in
            await HistoryRoutes.answer(request, history: history, accounts: accounts, roomsOf: roomsOf) { query, rooms throws(Refusal) in
                HistoryRequest(.search(query["q"].map(String.init) ?? ""), limit: try HistoryRoutes.limit(query), rooms: rooms)
            }
        }
    }

    /// The `limit` parameter, or the default; text that is not a number is refused.
    static func limit(_ query: [String: Substring]) throws(Refusal) -> Int {
        guard let text = query["limit"] else { return defaultLimit }
        guard let limit = Int(text) else {
            throw Refusal(.historyLimitInvalid, "The limit \"\(text.prefix(20))\" is not a number; ask for 1 to \(Limits.historyLimitMax) events.")
        }
        return limit
    }

    private static func answer(
        _ request: Request,
        history: (any HistoryAnswering)?,
        accounts: AccountService?,
        roomsOf: RoomsOf?,
        makeRequest: ([String: Substring], [String]?) throws(Refusal) -> HistoryRequest
    ) async -> Response {
        var rooms: [String]?
        if let accounts {
            let login: String
            do {
                login = try MessageRoutes.author(request, accounts: accounts)
            } catch let failure as MessageRoutes.Failure {
                return respond(failure.status, .failure(Refusal(Refusal.Code(rawValue: failure.code), failure.message)), headers: failure.headers)
            } catch {
                return respond(.unauthorized, .failure(Refusal(Refusal.Code(rawValue: "token.invalid"), "The access token was not accepted.")))
            }
            if let roomsOf {
                do {
                    rooms = try await roomsOf(login)
                } catch {
                    // Without the person's rooms nothing is searched (never more than theirs).
                    return respond(.serviceUnavailable, .failure(Refusal(.historyUnavailable, "Your rooms could not be read; try again later.")))
                }
            }
        }
        var query: [String: Substring] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil {
            query[String(key)] = value
        }
        let historyRequest: HistoryRequest
        do throws(Refusal) {
            historyRequest = try makeRequest(query, rooms).validate()
        } catch {
            return respond(.badRequest, .failure(error))
        }
        return await Self.ask(historyRequest, history: history)
    }

    /// Asks the history role a checked request and answers with its reply (or why none came).
    static func ask(_ historyRequest: HistoryRequest, history: (any HistoryAnswering)?) async -> Response {
        guard let history else {
            return respond(.serviceUnavailable, .failure(Refusal(.historyUnavailable, "History is off on this server (WARREN_HISTORY=none).")))
        }
        do throws(HistoryAskError) {
            let reply = try await history.ask(historyRequest)
            if reply.ok { return respond(.ok, reply) }
            return respond(reply.code == Refusal.Code.historyUnavailable.rawValue ? .serviceUnavailable : .badRequest, reply)
        } catch {
            let status: HTTPResponse.Status
            switch error {
            case .timeout: status = .gatewayTimeout
            case .unavailable: status = .serviceUnavailable
            }
            return respond(status, .failure(Refusal(.historyUnavailable, error.description)))
        }
    }

    private static func respond(_ status: HTTPResponse.Status, _ reply: HistoryReply, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.encode()))
        )
    }
}
