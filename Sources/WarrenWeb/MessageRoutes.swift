import HTTPTypes
import Hummingbird
import NIOCore
import WarrenAuth
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `POST /api/messages`: posts to the room as the person whose access token is the bearer
/// token, for people and bots that do not speak STOMP.
///
/// The request is JSON, `{"text": "hello", "clientId": "<your id>"?}`. The token is checked
/// first (401), then the text by the same rules as a tab's post (400); then the post goes to
/// the inbox through the broker (see WarrenServices' `APIPostPublisher`) and the login service
/// admits it like a tab's. Answers are JSON: 201 `{"ok": true, "id", "clientId", "from"}` once
/// the login service admitted it as room event `id`; 202 with `"queued": true` when the broker
/// holds it but no login service answered in time (it reaches the room later); errors
/// `{"ok": false, "code", "error"}` with 400, 401, 413, 415 or 503 (no broker, or the broker did
/// not confirm the post).
public enum MessageRoutes {
    /// The largest request body read: room for the longest text even with every character escaped.
    static let maximumBody = 64 * 1024

    /// The request body.
    struct Body: Decodable {
        var text: String?
        var clientId: String?
    }

    /// The response body, for success and failure alike.
    struct Reply: Encodable, Equatable {
        var ok: Bool
        var id: String?
        var clientId: String?
        var from: String?
        var queued: Bool?
        var code: String?
        var error: String?
    }

    /// A request answered early, with its status and JSON body.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
        var headers: HTTPFields = [:]
    }

    /// Adds the route; with `posts` nil (no broker link) it answers 503 after the checks.
    public static func add(to router: Router<WarrenRequestContext>, accounts: AccountService, posts: (any PostPublishing)?) {
        router.post("api/messages") { request, _ in
            do {
                return try await Self.post(request, accounts: accounts, posts: posts)
            } catch let failure as Failure {
                return try Self.respond(
                    failure.status, Reply(ok: false, code: failure.code, error: failure.message), headers: failure.headers
                )
            }
        }
    }

    static func post(_ request: Request, accounts: AccountService, posts: (any PostPublishing)?, room: String? = nil) async throws -> Response {
        let login = try Self.author(request, accounts: accounts)
        let body = try await Self.body(request)
        guard let text = body.text else {
            throw Failure(status: .badRequest, code: Refusal.Code.malformedRequest.rawValue, message: "The request has no \"text\".")
        }
        let submitted: (post: InboxPost, taken: PostSubmission.Taken)
        do throws(PostSubmission.Failure) {
            submitted = try await PostSubmission.submit(text: text, clientId: body.clientId, login: login, room: room, posts: posts)
        } catch {
            switch error {
            case .refused(let refusal):
                throw Failure(status: .badRequest, code: refusal.code.rawValue, message: refusal.message)
            case .unavailable(let reason):
                throw Failure(status: .serviceUnavailable, code: unavailableCode, message: reason)
            }
        }
        switch submitted.taken {
        case .admitted(let id):
            return try Self.respond(.created, Reply(ok: true, id: id, clientId: submitted.post.clientId, from: login))
        case .queued:
            return try Self.respond(.accepted, Reply(ok: true, clientId: submitted.post.clientId, from: login, queued: true))
        }
    }

    /// The code of a 503.
    static let unavailableCode = "post.unavailable"

    /// The name in a valid, unrevoked bearer access token.
    static func author(_ request: Request, accounts: AccountService) throws -> String {
        guard let token = AccountRoutes.bearerToken(request), !token.isEmpty else {
            throw Failure(
                status: .unauthorized, code: "token.missing",
                message: "Send your access token as Authorization: Bearer <token> (from /api/login).",
                headers: [.wwwAuthenticate: "Bearer"]
            )
        }
        do throws(AuthFailure) {
            return try accounts.authorize(accessToken: token).subject
        } catch {
            throw Failure(
                status: .unauthorized, code: "token.invalid", message: error.message,
                headers: [.wwwAuthenticate: #"Bearer error="invalid_token""#]
            )
        }
    }

    /// The JSON body, of at most ``maximumBody`` bytes.
    static func body(_ request: Request) async throws -> Body {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw Failure(
                status: .contentTooLarge, code: Refusal.Code.requestTooLarge.rawValue,
                message: "The request body is larger than \(maximumBody) bytes."
            )
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw Failure(
                status: .unsupportedMediaType, code: Refusal.Code.malformedRequest.rawValue,
                message: "Send the request as JSON with Content-Type: application/json."
            )
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(bytes.readableBytesView))
        } catch {
            throw Failure(
                status: .badRequest, code: Refusal.Code.malformedRequest.rawValue,
                message: "The request body is not a JSON object like {\"text\": \"hello\"}."
            )
        }
    }

    static func respond(_ status: HTTPResponse.Status, _ reply: Reply, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.cacheControl] = "no-store"
        return try apiJSON(reply, status: status, headers: fields)
    }
}
