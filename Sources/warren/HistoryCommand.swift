import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenServices

/// `warren history`: the room's memory.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Store the room in batches (<prefix>.history) and answer history requests (<prefix>.history.rpc).",
        discussion: """
            Consumes <prefix>.history, a queue bound to the room with x-single-active-consumer: \
            one copy writes, the others stand by and take over when it goes. Events are written \
            in batches and acknowledged once committed; a batch delivered again writes nothing \
            twice. Answers latest / before / search requests, which the login service uses to \
            backfill new tabs.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common + [
                .init(.history, "store, or none to run without history"),
                .init(.databaseURL, "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB"),
                .init(.historyBatch, "most events per write"),
                .init(.historyFlushMs, "longest wait for a batch to fill"),
            ]))

            Stops gracefully on SIGTERM or SIGINT: it writes and acknowledges what it holds.
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await ServiceWiring.runRole(
            withStore: { HistoryRole(configuration: $0, store: $2.events, logger: $1) }, options: self.options,
            check: { configuration in
                guard configuration.history == .store else {
                    throw CommandFailure("WARREN_HISTORY=none: there is no history to keep; set WARREN_HISTORY=store or do not run this role")
                }
            }
        )
    }
}
