import ArgumentParser
import ProofOfWork
import WarrenCore
import WarrenServices

/// `warren pow-worker`: the proof-of-work worker.
struct PowWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pow-worker",
        abstract: "Solve proof-of-work jobs (<prefix>.pow.jobs), RPC requests (<prefix>.pow.rpc) and gRPC calls (warren.v1.ProofOfWork).",
        discussion: """
            A job's proven post goes to the room; an RPC request is answered to its reply-to; a \
            gRPC Solve call is answered directly (docs/grpc.md). One job at a time per queue \
            (prefetch 1) and one gRPC proof at a time, so run one worker per machine and more \
            machines to go faster.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common + [
                .init(.grpcHost, "address the gRPC server listens on"),
                .init(.powGRPCPort, "gRPC ProofOfWork port, or off"),
            ]))

            Stops gracefully on SIGTERM or SIGINT: the proof in progress is finished and sent.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "Threads per proof (default: one per core).")
    var threads: Int?

    @Option(help: ArgumentHelp("gRPC port; overrides WARREN_POW_GRPC_PORT (0: any free one).", valueName: "port"))
    var grpcPort: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let grpcPort, !(0...65535).contains(grpcPort) {
            throw ValidationError("--grpc-port \(grpcPort): expected a port number from 0 to 65535")
        }
    }

    func run() async throws {
        let solver = ProofSolver(workers: self.threads)
        let port = self.grpcPort
        try await ServiceWiring.runRole(
            { PowWorkerRole(configuration: $0, logger: $1, solver: solver) }, options: self.options,
            alongside: { configuration, logger in
                ProofOfWorkService.server(configuration: configuration, solver: solver, port: port, logger: logger).map { [$0] } ?? []
            }
        )
    }
}
