import AMQPClient
import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenAuth
import WarrenCore
import WarrenGRPC
import WarrenServices
import WarrenStore
import WarrenWeb

import Foundation

/// Wires the configuration into services for the subcommands: loads it, makes the AMQP settings,
/// opens the store, builds the web role's broker link and runs a role.
enum ServiceWiring {
    /// The text of `.env` in the working directory, nil when there is none.
    static func envFileText() -> String? {
        try? String(contentsOfFile: ".env", encoding: .utf8)
    }

    /// WARREN_* from the environment and `.env`; a bad value is a one-line failure.
    static func loadConfiguration() throws -> WarrenConfiguration {
        do {
            return try WarrenConfiguration.load(environment: ProcessInfo.processInfo.environment, envFile: envFileText())
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
    }

    /// The AMQP settings from WARREN_AMQP_URL (one URL, or a comma list: a cluster's nodes).
    static func amqp(_ configuration: WarrenConfiguration, name: String) throws -> AMQPConfiguration {
        do {
            var amqp = try AMQPConfiguration(urlList: configuration.amqpURL)
            amqp.connectionName = "warren \(name)"
            return amqp
        } catch {
            throw CommandFailure("WARREN_AMQP_URL: \(error)")
        }
    }

    /// Opens (and migrates) the store WARREN_DATABASE_URL names; a failure is a one-line failure.
    static func openStore(_ configuration: WarrenConfiguration, logger: Logger) async throws -> Store {
        do {
            return try await Store.open(url: configuration.databaseURL, logger: logger)
        } catch {
            throw CommandFailure("WARREN_DATABASE_URL: cannot open the store: \(error)")
        }
    }

    /// The web role's link to the broker: its way to the history role (nil with
    /// WARREN_HISTORY=none, when the history routes answer 503), its publisher of REST API
    /// posts, and the service that keeps their one AMQP connection.
    static func webBroker(_ configuration: WarrenConfiguration, logger: Logger) throws -> WebBroker {
        let history = configuration.history == .store ? HistoryRPCClient(configuration: configuration, logger: logger) : nil
        let posts = APIPostPublisher(configuration: configuration, logger: logger)
        let rooms = RoomRouter(configuration: configuration, logger: logger)
        let subscriber = TabSubscriber(configuration: configuration, logger: logger)
        let roles: [any WarrenRole] = [posts, rooms, subscriber] + (history.map { [$0] } ?? [])
        let group = RoleGroup(name: "web", roles: roles)
        let service = RoleService(
            role: group, amqp: try amqp(configuration, name: group.name), logger: logger, firstConnectionRetry: webFirstConnectionRetry
        )
        return WebBroker(history: history, posts: posts, rooms: rooms, subscriber: subscriber, service: service)
    }

    /// The web role's link may start before the broker: it tries every 2 s for as long as it
    /// takes, while the page is served and the history and message routes answer 503 (a role's
    /// first failed connection ends the process instead).
    static let webFirstConnectionRetry = AMQPRecoveryPolicy(initialDelay: .seconds(2), maxDelay: .seconds(2), jitter: 0)

    /// Opens the store, runs the role made on it until SIGTERM or SIGINT, then closes the store.
    static func runRole(
        withStore makeRole: (WarrenConfiguration, Logger, Store) -> any WarrenRole, options: GlobalOptions,
        check: (WarrenConfiguration) throws -> Void = { _ in }
    ) async throws {
        let configuration = try options.bootstrap()
        try check(configuration)
        var logger = Logger(label: "warren.services")
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        let store = try await openStore(configuration, logger: logger)
        OpsWiring.watchStore(store)
        let role = makeRole(configuration, logger, store)
        do {
            let service = RoleService(role: role, amqp: try amqp(configuration, name: role.name), logger: logger)
            try await runServices([service] + OpsWiring.services(configuration, logger: logger), logger: logger)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        logger.notice("Warren \(role.name) stopped")
    }

    /// Runs one role as a service until SIGTERM or SIGINT, beside the services `alongside` makes
    /// (a gRPC server, say).
    static func runRole(
        _ makeRole: (WarrenConfiguration, Logger) -> any WarrenRole, options: GlobalOptions,
        alongside: (WarrenConfiguration, Logger) -> [any Service] = { _, _ in [] }
    ) async throws {
        let configuration = try options.bootstrap()
        var logger = Logger(label: "warren.services")
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        let role = makeRole(configuration, logger)
        let service = RoleService(role: role, amqp: try amqp(configuration, name: role.name), logger: logger)
        try await runServices([service] + alongside(configuration, logger) + OpsWiring.services(configuration, logger: logger), logger: logger)
        logger.notice("Warren \(role.name) stopped")
    }
}

/// What ``ServiceWiring/webBroker(_:logger:)`` makes.
struct WebBroker {
    let history: HistoryRPCClient?
    let posts: APIPostPublisher
    let rooms: RoomRouter
    let subscriber: TabSubscriber
    let service: RoleService

    /// The web role's gRPC `warren.v1.Chat` server (nil with WARREN_GRPC_PORT=off).
    func chatServer(_ configuration: WarrenConfiguration, accounts: AccountService, store: Store, logger: Logger) -> GRPCServerService? {
        ChatService.server(
            configuration: configuration,
            deps: .init(accounts: accounts, rooms: store.rooms, posts: self.posts, history: self.history, subscriber: self.subscriber),
            logger: logger
        )
    }
}
