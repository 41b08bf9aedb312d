import ArgumentParser
import WarrenCore
import WarrenServices

/// `warren reverser`: the reverser bot.
struct ReverserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverser",
        abstract: "Reply to every post with its text reversed; route !pow, !rpc and !grpc posts to the PoW workers.",
        discussion: """
            Consumes <prefix>.bot.reverser. A plain post gets a reply in the room; a post ending \
            in !pow becomes a job on <prefix>.pow.jobs; a post ending in !rpc is proven by an RPC \
            call to <prefix>.pow.rpc, one ending in !grpc by a gRPC call to a worker \
            (WARREN_POW_GRPC_TARGETS), and published to the room with its proof.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common + [
                .init(.powBits, "proof-of-work difficulty in bits"),
                .init(.rpcTimeoutMs, "how long an RPC or gRPC proof may take"),
                .init(.powGRPCTargets, "PoW workers for !grpc, host:port,..."),
            ]))

            Stops gracefully on SIGTERM or SIGINT: RPC calls in flight finish first.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "RPC calls in flight at most.")
    var rpcConcurrency: Int = 32

    func run() async throws {
        let concurrency = self.rpcConcurrency
        try await ServiceWiring.runRole({ ReverserRole(configuration: $0, logger: $1, rpcConcurrency: concurrency) }, options: self.options)
    }
}
