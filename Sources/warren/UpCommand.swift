import AMQPClient
import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenAuth
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
        let configuration = try self.options.bootstrap()
        var logger = Logger(label: "warren.services")
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        // One store for the login role's rooms, the history role and the web role's accounts.
        let store: Store? = try await ServiceWiring.openStore(configuration, logger: logger)
        var roles: [any WarrenRole] = [
            LoginRole(configuration: configuration, logger: logger, rooms: store?.rooms),
            ReverserRole(configuration: configuration, logger: logger),
            PowWorkerRole(configuration: configuration, logger: logger),
            CronRole(configuration: configuration, logger: logger),
        ]
        if let store { OpsWiring.watchStore(store) }
        if configuration.history == .store, let store {
            roles.append(HistoryRole(configuration: configuration, store: store.events, logger: logger))
        }
        var services: [any Service] = try roles.map {
            RoleService(role: $0, amqp: try ServiceWiring.amqp(configuration, name: $0.name), logger: logger)
        }
        if let solver = ProofOfWorkService.server(configuration: configuration, logger: logger) { services.append(solver) }
        if !self.noWeb, let store {
            let web = WebConfiguration(configuration)
            let webLogger = Logger(label: "warren.web")
            let accounts: AccountService
            let broker: WebBroker
            let ops: (OpsWatcher?, [any Service])
            do {
                accounts = try AccountsWiring.service(configuration, store: store, logger: webLogger)
                broker = try ServiceWiring.webBroker(configuration, logger: webLogger)
                ops = try OpsWiring.opsWatcher(configuration, logger: webLogger)
            } catch {
                await store.close()
                throw error
            }
            services.append(broker.service)
            services += ops.1
            if let grpc = broker.chatServer(configuration, accounts: accounts, store: store, logger: webLogger) { services.append(grpc) }
            // Last: the group stops services in reverse order, so the page goes first.
            services.append(
                buildApplication(
                    configuration: web, accounts: accounts, history: broker.history, posts: broker.posts,
                    rooms: RoomRoutes.Dependencies(accounts: accounts, store: store, routing: broker.rooms, history: broker.history, posts: broker.posts),
                    ops: ops.0, logger: webLogger
                )
            )
        }
        if self.noWeb { services += OpsWiring.services(configuration, logger: logger) }
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
