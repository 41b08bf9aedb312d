import Foundation
import GRPCCore
import Testing
import WarrenCore

/// `warren grpc post|history|tail`, the real program, against a web role's gRPC chat served
/// in-process (``GRPCChat``) on the test broker.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct GRPCCommandTests {
    @Test(.enabled(if: BuiltProgram.path("warren") != nil, "no warren program beside the test binary"))
    func postHistoryAndTailThroughTheProgramAndABadTokenFails() async throws {
        try await GRPCChat.with { chat in
            let port = try #require(try await chat.server.listeningPort())
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-grpc-tokens-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            func tokenFile(_ name: String, _ token: String) throws -> String {
                let file = folder.appendingPathComponent(name).path
                try Data("\(token)\n".utf8).write(to: URL(fileURLWithPath: file))
                return file
            }
            let aliceToken = try await chat.accessToken("alice")
            let asAlice: Metadata = ["authorization": "Bearer \(aliceToken)"]
            let alice = try tokenFile("alice", aliceToken)
            let bobToken = try await chat.accessToken("bob")
            let bob = try tokenFile("bob", bobToken)
            let environment = WarrenRoomsCLITests.environment(chat.harness)
            let target = "127.0.0.1:\(port)"
            @Sendable func grpc(_ arguments: [String], tokenFile: String, within: Double = 60, until: (@Sendable (String) -> Bool)? = nil)
                async throws -> ProgramRun
            {
                try await ProgramRun.run(
                    "warren", ["grpc"] + arguments + ["--token-file", tokenFile, "--target", target], environment: environment,
                    within: within, until: until
                )
            }

            // post prints the id it was admitted under; history shows the post.
            let posted = try await grpc(["post", "hello from warren grpc"], tokenFile: alice)
            #expect(posted.status == 0, "\(posted.transcript)")
            let id = posted.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!id.isEmpty && !id.contains(" "), "\(posted.transcript)")
            try await eventually("the post in history") {
                try await chat.client.history(.init(), metadata: asAlice).events.contains { $0.id == id }
            }
            let history = try await grpc(["history", "--limit", "10"], tokenFile: bob)
            #expect(history.status == 0, "\(history.transcript)")
            #expect(history.output.contains(" message alice: hello from warren grpc\n"), "\(history.transcript)")
            let found = try await grpc(["history", "--search", "warren grpc"], tokenFile: bob)
            #expect(found.output.contains("message alice: hello from warren grpc"), "\(found.transcript)")

            // tail, as bob with a session of his own: prints a post made after it subscribed, then
            // is stopped once that line is there.
            let session = GRPCChat.session()
            let line = " message alice: while bob tails\n"
            let tail = Task {
                try await grpc(["tail", "--session", session], tokenFile: bob, within: 60) { $0.contains(line) }
            }
            let queue = try chat.queue(of: ["authorization": "Bearer \(bobToken)"], session: session)
            try await eventually("warren grpc tail's subscription") { try await chat.harness.consumerCount(queue) ?? 0 >= 1 }
            let second = try await grpc(["post", "while bob tails"], tokenFile: alice)
            #expect(second.status == 0, "\(second.transcript)")
            let tailed = try await tail.value
            #expect(tailed.output.contains(line), "\(tailed.transcript)")
            #expect(!tailed.output.contains("hello from warren grpc"), "only what came after it subscribed: \(tailed.transcript)")

            // A token that is not one: the call's status and message, exit status 1.
            let forged = try tokenFile("forged", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
            for arguments in [["post", "x"], ["history"], ["tail"]] {
                let refused = try await grpc(arguments, tokenFile: forged, within: 30)
                #expect(refused.status == 1, "\(arguments): \(refused.transcript)")
                #expect(refused.errors.contains("unauthenticated"), "\(arguments): \(refused.transcript)")
                #expect(refused.errors.contains("token.invalid"), "\(arguments): \(refused.transcript)")
            }
            let missing = try await grpc(["history"], tokenFile: folder.appendingPathComponent("nobody").path, within: 30)
            #expect(missing.status == 1, "\(missing.transcript)")
            #expect(missing.errors.contains("cannot read the file"), "\(missing.transcript)")
            // Nobody listening at --target: UNAVAILABLE at once, not a wait.
            let nowhere = try await ProgramRun.run(
                "warren", ["grpc", "history", "--token-file", bob, "--target", "127.0.0.1:1"], environment: environment, within: 30
            )
            #expect(nowhere.status == 1, "\(nowhere.transcript)")
            #expect(nowhere.errors.contains("unavailable"), "\(nowhere.transcript)")
            #expect(!(try await chat.client.history(.init(), metadata: asAlice).events.contains { $0.text == "x" }))
        }
    }
}
