import ArgumentParser
import Logging
import WarrenCore

/// Options every subcommand accepts, before or after its name.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "How much to log.",
            discussion: """
                Defaults to \(ConfigurationKey.logLevel.rawValue) (environment, then .env), or \
                \(ConfigurationKey.logLevel.defaultValue) when that is unset.
                """,
            valueName: "level"
        )
    )
    var logLevel: LogLevel?

    /// Loads the configuration (environment, then `.env`, then defaults), sends every logger
    /// to standard error at the level ``WarrenConfiguration/logLevel(overriddenBy:)`` chooses,
    /// in `WARREN_LOG_FORMAT`, and starts recording metrics (``OpsWiring``); call once per process.
    func bootstrap() throws -> WarrenConfiguration {
        let configuration = try ServiceWiring.loadConfiguration()
        let level = Logger.Level(configuration.logLevel(overriddenBy: self.logLevel))
        OpsWiring.bootstrap(format: configuration.logFormat, level: level)
        return configuration
    }
}

extension LogLevel: ExpressibleByArgument {}

extension Logger.Level {
    /// swift-log's level of the same name.
    init(_ level: LogLevel) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
