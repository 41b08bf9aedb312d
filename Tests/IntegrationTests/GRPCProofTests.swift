import Foundation
import GRPCCore
import Logging
import ProofOfWork
import Testing
import WarrenCore
import WarrenGRPC
import WarrenServices

/// `!grpc`: post → inbox → login → the reverser's queue → a direct gRPC `Solve` call to a PoW
/// worker → the proven post in the room, on the real broker, with real gRPC servers on loopback.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct GRPCProofTests {
    @Test func aGRPCPostReachesTheRoomOnceWithAValidProof() async throws {
        try await PowServers.with(count: 1) { servers in
            try await ChatHarness.with(environment: ["WARREN_POW_GRPC_TARGETS": servers.targets]) { chat in
                try await chat.start(chat.login())
                try await chat.start(chat.reverser())
                let alice = try await chat.tab("alice")
                let bob = try await chat.tab("bob")
                let clientId = try await alice.post("prove this !grpc")
                for tab in [alice, bob] {
                    let event = try await tab.events.first("the proven post") { $0.clientId == clientId }
                    try expectVerifiedProof(event, via: .grpc, author: "alice", text: "prove this")
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(bob.events.all.filter { $0.clientId == clientId }.count == 1)
            }
        }
    }

    @Test func callsSkipAWorkerThatIsNotThere() async throws {
        try await PowServers.with(count: 2) { servers in
            // The first address has nobody listening: every call that starts there moves on.
            let targets = "127.0.0.1:\(try PowServers.closedPort()),\(servers.targets)"
            try await ChatHarness.with(environment: ["WARREN_POW_GRPC_TARGETS": targets]) { chat in
                try await chat.start(chat.login())
                try await chat.start(chat.reverser())
                let alice = try await chat.tab("alice")
                var clientIds: [String] = []
                for index in 0..<6 { clientIds.append(try await alice.post("post \(index) !grpc")) }
                try await alice.events.wait("six proofs", within: 20) { events in
                    Set(events.filter { $0.kind == .proof && $0.proof?.via == .grpc }.compactMap(\.clientId)) == Set(clientIds)
                }
                #expect(!alice.events.all.contains { $0.kind == .error })
            }
        }
    }

    @Test func noWorkerIsAnErrorForTheSenderAtOnce() async throws {
        let targets = "127.0.0.1:\(try PowServers.closedPort())"
        // A long deadline: the error must come from the refused connection, not the timeout.
        try await ChatHarness.with(environment: ["WARREN_POW_GRPC_TARGETS": targets, "WARREN_RPC_TIMEOUT_MS": "20000"]) { chat in
            try await chat.start(chat.login())
            try await chat.start(chat.reverser())
            let alice = try await chat.tab("alice")
            let bob = try await chat.tab("bob")
            let started = ContinuousClock.now
            let clientId = try await alice.post("nobody proves this !grpc")
            let error = try await alice.events.first("the error", within: 10) { $0.kind == .error && $0.inReplyTo == clientId }
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(error.code == "pow.failed")
            #expect(error.text.contains("could be reached"), "\(error.text)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(!bob.events.all.contains { $0.kind == .error || $0.clientId == clientId })
        }
    }

    @Test func aDeadlineEndsTheCallAndStopsTheSearch() async throws {
        try await PowServers.with(count: 1) { servers in
            try await GRPCClients.with(targets: [HostPort(host: "127.0.0.1", port: servers.ports[0])]) { clients in
                let pow = Warren_V1_ProofOfWork.Client(wrapping: clients.clients[0])
                var options = CallOptions.defaults
                options.timeout = .milliseconds(300)
                // 60 bits: years of hashing; the deadline must end it.
                let hard = Warren_V1_SolveRequest.with { $0.challenge = "warren-test:deadline"; $0.bits = 60 }
                do {
                    _ = try await pow.solve(hard, options: options)
                    Issue.record("a 60-bit proof came within 300 ms")
                } catch let error as RPCError {
                    #expect(error.code == .deadlineExceeded)
                }
                // The worker is free again: an easy proof comes at once (one proof runs at a time).
                options.timeout = .seconds(10)
                let easy = try await pow.solve(.with { $0.challenge = "warren-test:easy"; $0.bits = 8 }, options: options)
                #expect(easy.bits == 8)
                let proof = ProofOfWork.Proof(
                    bits: 8, challenge: easy.challenge, nonce: easy.nonce, hash: easy.hash, hashesTried: easy.hashesTried,
                    elapsed: .zero, hashesPerSecond: 0
                )
                #expect(proof.verify())
                // Bad input: INVALID_ARGUMENT.
                do {
                    _ = try await pow.solve(.with { $0.challenge = ""; $0.bits = 8 }, options: options)
                    Issue.record("an empty challenge was solved")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                }
                do {
                    _ = try await pow.solve(.with { $0.challenge = "x"; $0.bits = 65 }, options: options)
                    Issue.record("65 bits were solved")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                }
            }
        }
    }
}

/// PoW workers' gRPC servers on free loopback ports, for a test's length.
struct PowServers: Sendable {
    let ports: [Int]

    /// `127.0.0.1:port,...` for WARREN_POW_GRPC_TARGETS.
    var targets: String { self.ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    static func with(count: Int, _ body: @Sendable (PowServers) async throws -> Void) async throws {
        var logger = Logger(label: "warren.test.pow-grpc")
        logger.logLevel = .warning
        let servers = (0..<count).map { _ in
            GRPCServerService(
                name: "warren.v1.ProofOfWork", host: "127.0.0.1", port: 0,
                services: [ProofOfWorkService(solver: ProofSolver(workers: 1), logger: logger)], logger: logger
            )
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { try await server.run() } }
            defer { for server in servers { server.stop() } }
            var ports: [Int] = []
            for server in servers { ports.append(try #require(try await server.listeningPort())) }
            try await body(PowServers(ports: ports))
            for server in servers { server.stop() }
            try await group.waitForAll()
        }
    }

    /// A loopback port nobody listens on (bound, then closed).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CocoaError(.fileReadUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
