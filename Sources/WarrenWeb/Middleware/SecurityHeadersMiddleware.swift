import HTTPTypes
import Hummingbird

/// Adds the browser-hardening headers to every response, errors and `304`s included.
///
/// The page runs no inline script or style, so the policy can stay strict: everything from this
/// origin, plus a WebSocket connection to the broker's Web-STOMP origin.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let headers: HTTPFields

    /// Creates the middleware.
    /// - Parameter stompOrigin: the Web-STOMP origin (`ws://host:port`) the page may connect to.
    public init(stompOrigin: String?) {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy(stompOrigin: stompOrigin)
        headers[.xContentTypeOptions] = "nosniff"
        // HTTPTypes has no names for these two.
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        self.headers = headers
    }

    /// The Content-Security-Policy value for a page that talks to `stompOrigin`.
    public static func contentSecurityPolicy(stompOrigin: String?) -> String {
        let connect = ["'self'", stompOrigin].compactMap { $0 }.joined(separator: " ")
        return [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src \(connect)",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ].joined(separator: "; ")
    }

    /// Runs the rest of the chain and stamps the headers on whatever comes back.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Turned into a response here, not by the server, so that it carries the headers too.
            response = try error.response(from: request, context: context)
        }
        for field in self.headers where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}
