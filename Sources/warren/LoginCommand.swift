import ArgumentParser
import WarrenCore
import WarrenServices

/// `warren login`: the login service.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log tabs in and out (<prefix>.login) and admit their posts (<prefix>.inbox).",
        discussion: """
            A login declares the tab's queue <prefix>.user.<login>.<session>, bound to the room, \
            and replies with its name; a post is validated, checked against its session's queue \
            and published to <prefix>.posts with key post.plain, post.pow or post.rpc. Refused \
            posts get an error event in the sender's queue. Run as many copies as you like.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common + [
                .init(.databaseURL, "rooms and memberships (a login binds the\nperson's exchange to each of their rooms)"),
                .init(.userQueueTTLMs, "x-expires of a tab's queue"),
                .init(.userQueueMaxLength, "x-max-length of a tab's queue"),
                .init(.sessionMemoryMs, "how long a tab queue this service declared or\nsaw is trusted to exist without asking the\nbroker again; a logout through another copy\nis noticed after at most this long"),
                .init(.brokerAuth, "on: refuse a request whose broker-validated\nuser id (STOMP user-id, AMQP user_id) is not\nthe login it names; off: development only"),
            ]))

            Stops gracefully on SIGTERM or SIGINT: it finishes the message in hand.
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        // Rooms and memberships: the bindings a login declares are derived from them.
        try await ServiceWiring.runRole(withStore: { LoginRole(configuration: $0, logger: $1, rooms: $2.rooms) }, options: self.options)
    }
}
