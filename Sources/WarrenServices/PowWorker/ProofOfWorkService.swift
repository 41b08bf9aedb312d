import GRPCCore
import Logging
import ProofOfWork
import WarrenCore
import WarrenGRPC
import WarrenOps

/// `warren.v1.ProofOfWork`, served by the PoW worker over gRPC (docs/grpc.md): `Solve` finds a
/// proof for a challenge, for the reverser's `!grpc` posts and any other caller.
///
/// One proof runs at a time (it uses every core, as a queue job does), up to
/// ``waitingMax`` calls wait their turn and more are refused with `RESOURCE_EXHAUSTED`. A call
/// whose deadline passes, or whose caller goes, is cancelled: the search stops within a few
/// thousand hashes, or the call leaves the line.
public struct ProofOfWorkService: Warren_V1_ProofOfWork.SimpleServiceProtocol {
    let solver: ProofSolver
    let gate: SolveGate
    let logger: Logger

    /// The most calls waiting for their turn.
    public static let waitingMax = 64
    /// The longest challenge taken, in UTF-8 bytes (Warren's are 78).
    public static let challengeMaxBytes = 1024

    /// Creates the service.
    public init(solver: ProofSolver = ProofSolver(), logger: Logger) {
        self.solver = solver
        self.gate = SolveGate(concurrency: 1, waitingMax: Self.waitingMax)
        self.logger = logger
    }

    /// Finds the proof, or says why not with a status code.
    public func solve(request: Warren_V1_SolveRequest, context: ServerContext) async throws -> Warren_V1_SolveResponse {
        let bits = Int(request.bits)
        guard (Limits.powMinBits...Limits.powMaxBits).contains(bits) else {
            throw RPCError(code: .invalidArgument, message: "bits \(request.bits): expected \(Limits.powMinBits) to \(Limits.powMaxBits)")
        }
        guard !request.challenge.isEmpty, request.challenge.utf8.count <= Self.challengeMaxBytes else {
            throw RPCError(code: .invalidArgument, message: "challenge: expected 1 to \(Self.challengeMaxBytes) bytes of UTF-8")
        }
        let proof = try await cancellingWithRPC { try await self.prove(request.challenge, bits: bits) }
        let wire = WarrenCore.Proof(proof, via: .grpc)
        PowMetrics.solved(wire)
        self.logger.info("grpc proven", metadata: ["bits": "\(bits)", "elapsedMs": "\(wire.elapsedMs)"])
        return .with {
            $0.challenge = proof.challenge
            $0.bits = request.bits
            $0.nonce = proof.nonce
            $0.hash = proof.hash
            $0.hashesTried = proof.hashesTried
            $0.elapsedMs = UInt64(max(0, wire.elapsedMs))
            $0.hashesPerSecond = UInt64(max(0, wire.hashesPerSecond))
        }
    }

    /// Waits for a turn, then searches; an RPC error says why not.
    private func prove(_ challenge: String, bits: Int) async throws -> ProofOfWork.Proof {
        do {
            try await self.gate.enter()
        } catch is SolveGate.Full {
            throw RPCError(code: .resourceExhausted, message: "This worker has \(Self.waitingMax) calls waiting; try another worker or later.")
        } catch {
            throw RPCError(code: .cancelled, message: "The call ended while it waited for its turn.")
        }
        defer { self.gate.leave() }
        do {
            return try await self.solver.solve(challenge: challenge, bits: bits)
        } catch is CancellationError {
            self.logger.info("grpc solve cancelled", metadata: ["bits": "\(bits)"])
            throw RPCError(code: .cancelled, message: "The call ended before a proof was found; the search stopped.")
        } catch let error as ProofOfWorkError {
            throw RPCError(code: .internalError, message: "The search failed: \(error)")
        }
    }
}

extension ProofOfWorkService {
    /// The PoW worker's gRPC server on `WARREN_GRPC_HOST:WARREN_POW_GRPC_PORT` (or `port`), nil when off.
    public static func server(
        configuration: WarrenConfiguration, solver: ProofSolver = ProofSolver(), port: Int? = nil, logger: Logger
    ) -> GRPCServerService? {
        let chosen: Int
        if let port {
            chosen = port
        } else if case .port(let configured) = configuration.grpc.powPort {
            chosen = configured
        } else {
            return nil
        }
        return GRPCServerService(
            name: "warren.v1.ProofOfWork", host: configuration.grpc.host, port: chosen,
            services: [ProofOfWorkService(solver: solver, logger: logger)], logger: logger,
            required: port != nil || configuration.sources[ConfigurationKey.powGRPCPort.rawValue] != .defaultValue
        )
    }
}
