import Hummingbird
import Logging
import NIOCore
import WarrenAuth
import WarrenOps

/// RabbitMQ's HTTP auth backend: `POST /auth/user`, `/auth/vhost`, `/auth/resource`, `/auth/topic`.
///
/// The broker sends form fields and reads a plain-text `allow` or `deny`. A browser connects
/// with its name as login and its access token as passcode; everyone else (the services' internal
/// accounts) is denied here at once so the broker falls through to its internal backend. No
/// answer touches the database. Anything unexpected is `deny`.
struct BrokerAuthRoutes: Sendable {
    let accounts: AccountService
    let policy: BrokerPolicy?
    /// The largest form read; the broker's are a few hundred bytes.
    static let maximumBody = 8 * 1024

    func add(to router: Router<WarrenRequestContext>) {
        let auth = router.group("auth")
        auth.post("user") { request, context in
            let form = try await Self.form(request)
            guard let user = form["username"], let password = form["password"] else { return Self.answer(.user, false) }
            return Self.answer(.user, self.accounts.authenticatesBroker(user: user, password: password))
        }
        auth.post("vhost") { request, context in
            let form = try await Self.form(request)
            guard let policy = self.policy, let user = form["username"], let vhost = form["vhost"] else { return Self.answer(.vhost, false) }
            return Self.answer(.vhost, policy.allowsVhost(user: user, vhost: vhost))
        }
        auth.post("resource") { request, context in
            let form = try await Self.form(request)
            guard let policy = self.policy, let user = form["username"], let vhost = form["vhost"], let name = form["name"],
                let resource = form["resource"].flatMap(BrokerResource.init(rawValue:)),
                let permission = form["permission"].flatMap(BrokerPermission.init(rawValue:))
            else { return Self.answer(.resource, false) }
            let allowed = policy.allowsResource(user: user, vhost: vhost, resource: resource, name: name, permission: permission)
            if !allowed {
                context.logger.info(
                    "broker permission denied",
                    metadata: ["user": "\(user.prefix(64))", "resource": "\(resource.rawValue)", "name": "\(name.prefix(255))", "permission": "\(permission.rawValue)"]
                )
            }
            return Self.answer(.resource, allowed)
        }
        auth.post("topic") { _, _ in Self.answer(.topic, false) }
    }

    static let allow = answer("allow")
    static let deny = answer("deny")

    /// The answer to one of the broker's questions, counted (``AuthMetrics``).
    static func answer(_ check: AuthMetrics.Check, _ allowed: Bool) -> Response {
        AuthMetrics.decided(check, allowed: allowed) ? Self.allow : Self.deny
    }

    private static func answer(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    private static func form(_ request: Request) async throws -> FormBody {
        let body = try await request.body.collect(upTo: maximumBody)
        return FormBody(String(decoding: body.readableBytesView, as: UTF8.self))
    }
}

/// Adds the account endpoints (`/api/...`) and the broker's auth backend (`/auth/...`).
/// - Parameters:
///   - router: the web role's router.
///   - accounts: registration, sign-in and tokens.
///   - policy: the broker rights of a signed-in person; nil denies every vhost and resource.
public func addAccountRoutes(to router: Router<WarrenRequestContext>, accounts: AccountService, policy: BrokerPolicy?) {
    AccountRoutes(accounts: accounts).add(to: router)
    BrokerAuthRoutes(accounts: accounts, policy: policy).add(to: router)
}
