import ArgumentParser
import WarrenCore
import WarrenServices

/// `warren cron`: the scheduled greeting.
struct CronCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Post WARREN_CRON_TEXT to the room on WARREN_CRON_SCHEDULE.",
        discussion: """
            Several copies may run: they elect one poster through <prefix>.cron, a queue with \
            x-single-active-consumer, and each tick is posted once.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common + [
                .init(.cronSchedule, "5-field cron expression or \"@every 10s\""),
                .init(.cronText, "what to post"),
                .init(.cronRoom, "the room to post to"),
            ]))

            Stops gracefully on SIGTERM or SIGINT.
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await ServiceWiring.runRole({ CronRole(configuration: $0, logger: $1) }, options: self.options)
    }
}
