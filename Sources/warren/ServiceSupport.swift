import AMQPClient
import ArgumentParser
import Logging
import WarrenCore
import WarrenServices

import Foundation

/// Configuration and wiring the role subcommands share.
enum ServiceSupport {
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

    /// The AMQP settings from WARREN_AMQP_URL.
    static func amqp(_ configuration: WarrenConfiguration, name: String) throws -> AMQPConfiguration {
        do {
            var amqp = try AMQPConfiguration(url: configuration.amqpURL)
            amqp.connectionName = "warren \(name)"
            return amqp
        } catch {
            throw CommandFailure("WARREN_AMQP_URL: \(error)")
        }
    }

    /// Runs one role as a service until SIGTERM or SIGINT.
    static func runRole(_ makeRole: (WarrenConfiguration, Logger) -> any WarrenRole, options: GlobalOptions) async throws {
        try options.bootstrapLogging()
        let configuration = try loadConfiguration()
        var logger = Logger(label: "warren.services")
        logger[metadataKey: "prefix"] = "\(configuration.prefix)"
        let role = makeRole(configuration, logger)
        let service = RoleService(role: role, amqp: try amqp(configuration, name: role.name), logger: logger)
        try await runServices([service], logger: logger)
        logger.notice("Warren \(role.name) stopped")
    }

    /// The environment lines every role's help lists.
    static let commonEnvironment = """
          WARREN_AMQP_URL          broker [amqp://warren:warren@127.0.0.1:5672/warren]
          WARREN_PREFIX            prefix of broker names [chat]
          WARREN_LOG_LEVEL         default of --log-level [info]
        """
}
