import ArgumentParser
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
            \(ServiceWiring.commonEnvironment)
              WARREN_USER_QUEUE_TTL_MS     x-expires of a tab's queue [1800000]
              WARREN_USER_QUEUE_MAX_LENGTH x-max-length of a tab's queue [1000]
              WARREN_SESSION_MEMORY_MS     how long a tab queue this service declared or
                                           saw is trusted to exist without asking the
                                           broker again; a logout through another copy
                                           is noticed after at most this long [30000]
              WARREN_BROKER_AUTH           on: refuse a request whose broker-validated
                                           user id (STOMP user-id, AMQP user_id) is not
                                           the login it names; off: development only [on]

            Stops gracefully on SIGTERM or SIGINT: it finishes the message in hand.
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await ServiceWiring.runRole({ LoginRole(configuration: $0, logger: $1) }, options: self.options)
    }
}
