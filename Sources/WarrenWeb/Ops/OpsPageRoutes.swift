import Hummingbird
import WarrenAuth

/// `GET /api/ops`: the operator's page's data (``OpsOverview``), for the accounts named in
/// `WARREN_ADMINS` only.
///
/// The bearer access token is checked first (401 `token.missing` / `token.invalid`), then its
/// name against the admins (403 `ops.forbidden`); with no management API (`WARREN_MGMT_URL=off`)
/// an admin gets 503 `ops.unavailable`. The management API's answers are cached by
/// ``OpsWatcher``, so any number of open pages cost the broker one reading per 5 s.
public enum OpsPageRoutes {
    /// Adds the route.
    public static func add(to router: Router<WarrenRequestContext>, accounts: AccountService, admins: [String], watcher: OpsWatcher?) {
        let admins = Set(admins)
        // The page itself is web/ops.html; /ops is its short name.
        router.get("ops") { _, _ in Response(status: .seeOther, headers: [.location: "/ops.html"]) }
        router.get("api/ops") { request, _ -> Response in
            do {
                let login = try MessageRoutes.author(request, accounts: accounts)
                guard admins.contains(login) else {
                    throw MessageRoutes.Failure(
                        status: .forbidden, code: "ops.forbidden", message: "\(login) is not an operator of this server (WARREN_ADMINS)."
                    )
                }
                guard let watcher else {
                    throw MessageRoutes.Failure(
                        status: .serviceUnavailable, code: "ops.unavailable",
                        message: "This server does not ask the broker's management API (WARREN_MGMT_URL is off)."
                    )
                }
                let overview = await watcher.overview()
                return try apiJSON(overview, status: .ok, headers: [.cacheControl: "no-store"])
            } catch let failure as MessageRoutes.Failure {
                return try MessageRoutes.respond(
                    failure.status, MessageRoutes.Reply(ok: false, code: failure.code, error: failure.message), headers: failure.headers
                )
            }
        }
    }
}
