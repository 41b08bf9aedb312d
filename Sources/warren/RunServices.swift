import Logging
import ServiceLifecycle

/// Runs services in one group until SIGTERM or SIGINT asks them to stop gracefully.
///
/// Every subcommand that runs services ends here, `warren up` with all the roles' services: the
/// group stops them in reverse order, so list a dependency (the web role's broker link) first.
func runServices(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        services: services,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    try await group.run()
}
