import ArgumentParser

/// The `warren` command: one executable, one subcommand per role.
@main
struct Warren: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "Warren: a browser chat with RabbitMQ at its centre.",
        discussion: """
            Browsers speak STOMP over WebSocket straight to RabbitMQ's Web-STOMP plugin; the \
            Swift roles speak AMQP 0-9-1 to the same broker. Each role is a subcommand, and any \
            role scales out by running more copies of it.

            Configuration comes from WARREN_* environment variables; every one has a default \
            that works on one machine. See each subcommand's --help for the ones it reads.
            """,
        version: "0.1.0",
        subcommands: [
            UpCommand.self, LoginCommand.self, ReverserCommand.self, PowWorkerCommand.self, CronCommand.self,
            HistoryCommand.self, WebCommand.self, SendCommand.self, RoomsCommand.self, TailCommand.self, GRPCCommand.self,
        ]
    )

    @OptionGroup var options: GlobalOptions
}
