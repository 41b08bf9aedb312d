import ArgumentParser
import ProofOfWork
import WarrenCore
import WarrenServices

/// `warren pow-worker`: the proof-of-work worker.
struct PowWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pow-worker",
        abstract: "Solve proof-of-work jobs (<prefix>.pow.jobs) and RPC requests (<prefix>.pow.rpc).",
        discussion: """
            A job's proven post goes to the room; an RPC request is answered to its reply-to. \
            One job at a time per queue (prefetch 1), so run one worker per machine and more \
            machines to go faster.

            Environment (also read from .env):
            \(EnvironmentHelp.lines(EnvironmentHelp.common))

            Stops gracefully on SIGTERM or SIGINT: the proof in progress is finished and sent.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "Threads per proof (default: one per core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let solver = ProofSolver(workers: self.threads)
        try await ServiceWiring.runRole({ PowWorkerRole(configuration: $0, logger: $1, solver: solver) }, options: self.options)
    }
}
