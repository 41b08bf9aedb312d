import AMQPClient
import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenServices
import WarrenStore
import WarrenWeb

import Foundation

/// `warren up`: every role in one process.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run every role in one process: login, reverser, pow-worker, cron, history and web.",
        discussion: """
            The embedded default for one machine. Each role has its own AMQP connection and \
            reconnects by itself when the broker restarts. Reads every variable the single roles \
            read (see their --help), from the environment and .env. With WARREN_HISTORY=none \
            the history role is left out (and new tabs get no backfill).

            Stops gracefully on SIGTERM or SIGINT: the web server and the roles finish what they hold.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Run the back-end roles only, without the web server.")
    var noWeb = false

    func run() async throws {
        try self.options.bootstrapLogging()
        let configuration = try ServiceSupport.loadConfiguration()
        var logger = Logger(label: "warren.services")
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        var roles: [any WarrenRole] = [
            LoginRole(configuration: configuration, logger: logger),
            ReverserRole(configuration: configuration, logger: logger),
            PowWorkerRole(configuration: configuration, logger: logger),
            CronRole(configuration: configuration, logger: logger),
        ]
        var store: Store?
        if configuration.history == .store {
            let opened = try await ServiceSupport.openStore(configuration, logger: logger)
            roles.append(HistoryRole(configuration: configuration, store: opened.events, logger: logger))
            store = opened
        }
        var services: [any Service] = try roles.map {
            RoleService(role: $0, amqp: try ServiceSupport.amqp(configuration, name: $0.name), logger: logger)
        }
        var store: Store?
        if !self.noWeb {
            let web = WebConfiguration(configuration)
            let webLogger = Logger(label: "warren.web")
            let (accounts, opened) = try await AccountsSupport.open(configuration, logger: webLogger)
            store = opened
            // Last: the group stops services in reverse order, so the page goes first.
            services.append(buildApplication(configuration: web, accounts: accounts, logger: webLogger))
        }
        do {
            try await runServices(services, logger: logger)
        } catch {
            await store?.close()
            throw error
        }
        await store?.close()
        logger.notice("Warren stopped")
    }
}
