import Hummingbird
import NIOCore
import WarrenAuth
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `POST /api/register`, `/api/login`, `/api/refresh` and `/api/logout`.
///
/// Requests are JSON (`Content-Type: application/json`, which a cross-site form cannot send
/// without the browser asking first). A sign-in answers with an access token in the body and the
/// refresh token in an HttpOnly, SameSite=Strict cookie scoped to `/api/refresh`; a client that
/// cannot keep cookies asks for it in the body with `"includeRefreshToken": true` and sends it
/// back in the body of `/api/refresh` and `/api/logout`.
struct AccountRoutes: Sendable {
    let accounts: AccountService

    /// The cookie that carries the refresh token.
    static let refreshCookie = "warren_refresh"
    /// Where the browser sends it: nowhere but the refresh endpoint.
    static let refreshCookiePath = "/api/refresh"
    /// The largest request body read.
    static let maximumBody = 16 * 1024

    struct Credentials: Decodable {
        var name: String?
        var password: String?
        var includeRefreshToken: Bool?
    }

    struct TokenBody: Decodable {
        var refreshToken: String?
        var includeRefreshToken: Bool?
    }

    func add(to router: Router<WarrenRequestContext>) {
        let api = router.group("api")
        api.post("register") { request, context in
            let credentials = try await Self.decode(Credentials.self, from: request, context: context)
            let (name, password) = try Self.require(credentials)
            let address = context.clientAddress
            let pair = try await self.run { () async throws(AuthFailure) in
                try await self.accounts.register(name: name, password: password, address: address)
            }
            return try Self.tokens(pair, status: .created, includeRefreshToken: credentials.includeRefreshToken ?? false)
        }
        api.post("login") { request, context in
            let credentials = try await Self.decode(Credentials.self, from: request, context: context)
            let (name, password) = try Self.require(credentials)
            let address = context.clientAddress
            let pair = try await self.run { () async throws(AuthFailure) in
                try await self.accounts.login(name: name, password: password, address: address)
            }
            return try Self.tokens(pair, status: .ok, includeRefreshToken: credentials.includeRefreshToken ?? false)
        }
        api.post("refresh") { request, context in
            let body = try await Self.decode(TokenBody.self, from: request, context: context, allowEmpty: true)
            guard let token = body?.refreshToken ?? request.cookies[Self.refreshCookie]?.value, !token.isEmpty else {
                throw APIError(AuthFailure(.invalidToken, "No refresh token: sign in again."))
            }
            let pair = try await self.run { () async throws(AuthFailure) in try await self.accounts.refresh(token) }
            return try Self.tokens(pair, status: .ok, includeRefreshToken: body?.includeRefreshToken ?? (body?.refreshToken != nil))
        }
        api.post("logout") { request, context in
            let body = try await Self.decode(TokenBody.self, from: request, context: context, allowEmpty: true)
            let bearer = Self.bearerToken(request)
            let refresh = body?.refreshToken ?? request.cookies[Self.refreshCookie]?.value
            _ = try await self.run { () async throws(AuthFailure) in
                try await self.accounts.logout(refreshToken: refresh, accessToken: bearer)
            }
            var response = Response(status: .noContent, headers: [.cacheControl: "no-store"])
            response.setCookie(Self.cookie(value: "", maxAge: 0))
            return response
        }
    }

    /// Runs a service call, turning its typed failure into the JSON answer.
    private func run<T>(_ body: () async throws(AuthFailure) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw APIError(error)
        }
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func require(_ credentials: Credentials) throws -> (String, String) {
        guard let name = credentials.name else { throw APIError.invalidRequest("The request has no \"name\".") }
        guard let password = credentials.password else { throw APIError.invalidRequest("The request has no \"password\".") }
        return (name, password)
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: WarrenRequestContext) async throws -> T {
        guard let value = try await decode(type, from: request, context: context, allowEmpty: false) else {
            throw APIError.invalidRequest("The request body is empty; send JSON.")
        }
        return value
    }

    /// Reads a JSON body of at most ``maximumBody`` bytes; nil for an empty body when allowed.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: WarrenRequestContext, allowEmpty: Bool) async throws -> T? {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw APIError.invalidRequest("The request body is larger than \(maximumBody) bytes.", status: .contentTooLarge)
        }
        if body.readableBytes == 0, allowEmpty { return nil }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError.invalidRequest("Send the request as JSON with Content-Type: application/json.", status: .unsupportedMediaType)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.invalidRequest("The request body is not the JSON object this endpoint takes.")
        }
    }

    static func cookie(value: String, maxAge: Int) -> Cookie {
        Cookie(name: refreshCookie, value: value, maxAge: maxAge, path: refreshCookiePath, secure: false, httpOnly: true, sameSite: .strict)
    }

    static func tokens(_ pair: TokenPair, status: HTTPResponse.Status, includeRefreshToken: Bool) throws -> Response {
        let body = TokenResponse(
            name: pair.name,
            accessToken: pair.accessToken,
            expiresIn: AccountService.accessLifetime,
            expiresAt: pair.accessExpiresAt,
            refreshToken: includeRefreshToken ? pair.refreshToken : nil,
            refreshExpiresAt: pair.refreshExpiresAt
        )
        var response = try apiJSON(body, status: status, headers: [.cacheControl: "no-store"])
        response.setCookie(cookie(value: pair.refreshToken, maxAge: Int(AccountService.refreshLifetime)))
        return response
    }
}

extension WebConfiguration {
    /// The broker rights of signed-in browsers under this configuration's prefix and vhost;
    /// nil (deny everything) for a prefix that is not a valid topology.
    var brokerPolicy: BrokerPolicy? {
        (try? Topology(prefix: self.prefix)).map { BrokerPolicy(topology: $0, vhost: self.stompVHost) }
    }
}
