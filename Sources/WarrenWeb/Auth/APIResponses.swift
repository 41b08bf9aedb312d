import Hummingbird
import NIOCore
import WarrenAuth

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A failed `/api` request as JSON: `{"error": "<code>", "message": "<for a person>"}`.
struct APIError: HTTPResponseError {
    let failure: AuthFailure
    let statusOverride: HTTPResponse.Status?

    init(_ failure: AuthFailure, status: HTTPResponse.Status? = nil) {
        self.failure = failure
        self.statusOverride = status
    }

    static func invalidRequest(_ message: String, status: HTTPResponse.Status = .badRequest) -> APIError {
        APIError(AuthFailure(.invalidRequest, message), status: status)
    }

    var status: HTTPResponse.Status {
        if let statusOverride { return statusOverride }
        switch failure.code {
        case .invalidCredentials, .invalidToken, .tokenReused: return .unauthorized
        case .throttled: return .tooManyRequests
        case .nameTaken: return .conflict
        case .unavailable, .busy: return .serviceUnavailable
        default: return .badRequest
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store"]
        if let retryAfter = failure.retryAfter { headers[.retryAfter] = String(max(1, retryAfter)) }
        if status == .unauthorized, failure.code != .invalidCredentials {
            headers[.wwwAuthenticate] = #"Bearer error="invalid_token""#
        }
        return try apiJSON(["error": failure.code.name, "message": failure.message], status: status, headers: headers)
    }
}

/// The body of a successful sign-in, registration or refresh.
struct TokenResponse: Encodable {
    var name: String
    var accessToken: String
    var tokenType = "Bearer"
    /// Seconds the access token lives.
    var expiresIn: Int64
    /// When it expires, in seconds since 1970.
    var expiresAt: Int64
    /// Only for clients that asked for it (`"includeRefreshToken": true`); browsers get the cookie.
    var refreshToken: String?
    var refreshExpiresAt: Int64
}

/// JSON with sorted keys and unescaped slashes.
func apiJSON(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var fields = headers
    fields[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}
