import ArgumentParser
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options every subcommand accepts, before or after its name.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "How much to log.",
            discussion: "Defaults to WARREN_LOG_LEVEL, or info when that is unset.",
            valueName: "level"
        )
    )
    var logLevel: Logger.Level?

    /// The level asked for, else `WARREN_LOG_LEVEL`, else `info`.
    func resolvedLogLevel() throws -> Logger.Level {
        if let logLevel { return logLevel }
        guard let raw = ProcessInfo.processInfo.environment["WARREN_LOG_LEVEL"], !raw.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: raw.lowercased()) else {
            throw ValidationError("WARREN_LOG_LEVEL=\"\(raw)\": expected trace, debug, info, notice, warning, error or critical")
        }
        return level
    }

    /// Sends every logger to standard error at the chosen level; call once per process.
    func bootstrapLogging() throws {
        let level = try self.resolvedLogLevel()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
