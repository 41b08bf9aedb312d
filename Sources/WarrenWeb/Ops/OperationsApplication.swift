import Hummingbird
import Logging

/// The small HTTP server of a role run alone (`WARREN_METRICS_PORT`): `/metrics`, `/readyz` and
/// `/healthz` (``OpsRoutes``), nothing else.
/// - Parameters:
///   - host: the address to listen on (`WARREN_HTTP_HOST`).
///   - port: the port (0 picks a free one, logged).
///   - onRunning: called with the port once the server listens (tests use it).
public func buildOperationsApplication(
    host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    OpsRoutes.add(to: router, alive: true)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "warren"),
        onServerRunning: { channel in
            let bound = channel.localAddress?.port ?? port
            logger.notice("metrics and health are served on \(browserURL(host: host, port: bound))metrics, /readyz and /healthz")
            await onRunning(bound)
        },
        logger: logger
    )
}
