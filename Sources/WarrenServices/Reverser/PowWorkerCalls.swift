import GRPCCore
import NIOConcurrencyHelpers
import WarrenCore
import WarrenGRPC

/// The reverser's calls to the PoW workers' `warren.v1.ProofOfWork/Solve` for `!grpc` posts:
/// spread over the workers in turn; a worker that cannot be reached (UNAVAILABLE, failed fast)
/// passes the call to the next, all within the one deadline.
struct PowWorkerCalls: Sendable {
    let clients: GRPCClients
    private let next = NIOLockedValueBox(0)

    init(clients: GRPCClients) {
        self.clients = clients
    }

    /// Why no proof came, in words for the sender.
    enum Failure: Error, Equatable {
        /// No worker could be reached.
        case unavailable(String)
        /// The deadline passed.
        case deadlineExceeded
        /// A worker answered with another error.
        case failed(String)
    }

    /// Asks the workers for a proof of `challenge`, until `deadline`.
    func solve(challenge: String, bits: Int, timeout: Duration) async throws(Failure) -> Warren_V1_SolveResponse {
        let count = self.clients.clients.count
        let first = self.next.withLockedValue { value -> Int in
            defer { value = (value + 1) % count }
            return value
        }
        let request = Warren_V1_SolveRequest.with {
            $0.challenge = challenge
            $0.bits = UInt32(bits)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var unreachable: [String] = []
        for offset in 0..<count {
            let index = (first + offset) % count
            let remaining = deadline - clock.now
            guard remaining > .zero else { throw .deadlineExceeded }
            var options = CallOptions.defaults
            options.timeout = remaining
            do {
                return try await Warren_V1_ProofOfWork.Client(wrapping: self.clients.clients[index]).solve(request, options: options)
            } catch let error as RPCError {
                switch error.code {
                case .unavailable:
                    unreachable.append(self.clients.targets[index].description)
                case .deadlineExceeded:
                    throw .deadlineExceeded
                default:
                    throw .failed("\(error.code): \(error.message)")
                }
            } catch {
                throw .failed("\(error)")
            }
        }
        throw .unavailable(unreachable.joined(separator: ", "))
    }
}
