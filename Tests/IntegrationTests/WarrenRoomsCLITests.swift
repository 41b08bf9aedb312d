import Foundation
import HummingbirdTesting
import Testing
import WarrenCore
import WarrenStore

/// The `warren` program as a person uses it for rooms: `warren send --room` through the broker
/// and the login service, `warren rooms …` through the web role's REST API. Real broker, real
/// store, the real program (beside the test binary).
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct WarrenRoomsCLITests {
    static let warren = BuiltProgram.path("warren")

    /// The environment that points `warren` at the harness's broker and names.
    static func environment(_ chat: ChatHarness) -> [String: String] {
        ["WARREN_AMQP_URL": chat.configuration.amqpURL, "WARREN_PREFIX": chat.topology.prefix, "WARREN_LOG_LEVEL": "warning"]
    }

    @Test(.enabled(if: WarrenRoomsCLITests.warren != nil, "no warren program beside the test binary"))
    func sendPostsToARoomOfItsAuthorAndIsRefusedInOthers() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 120) { chat in
                let (ops, _) = try await ChatRoomsTests.rooms(store)
                try await chat.start(chat.login(rooms: store.rooms))
                try await chat.start(chat.reverser())
                let opsWatch = try await chat.roomWatcher(room: ops.id)
                let env = Self.environment(chat)

                // Bob belongs to ops (the id is matched without regard to case): his post and the
                // reverser's reply come back in ops.
                let sent = try await ProgramRun.run("warren", ["send", "--as", "bob", "--room", "OPS", "hello ops"], environment: env)
                #expect(sent.status == 0, "\(sent.transcript)")
                #expect(sent.output.contains("#ops message bob: hello ops"), "\(sent.transcript)")
                #expect(sent.output.contains("#ops reply"), "\(sent.transcript)")
                try await opsWatch.first("bob's post in ops") { $0.from == "bob" && $0.text == "hello ops" }

                // Carol does not: refused to her alone, and nothing reaches ops.
                let refused = try await ProgramRun.run("warren", ["send", "--as", "carol", "--room", "ops", "let me in"], environment: env)
                #expect(refused.status == 1, "\(refused.transcript)")
                #expect(refused.output.contains("[\(Refusal.Code.roomNotMember.rawValue)]"), "\(refused.transcript)")
                #expect(refused.errors.contains("the post was refused"), "\(refused.transcript)")

                // A room id that cannot be one is refused before anything is sent.
                let bad = try await ProgramRun.run("warren", ["send", "--as", "bob", "--room", "no such room!", "x"], environment: env)
                #expect(bad.status == 64, "\(bad.transcript)")
                #expect(bad.errors.contains("--room"), "\(bad.transcript)")
                try await Task.sleep(for: .milliseconds(300))
                #expect(!opsWatch.all.contains { $0.from == "carol" })
            }
        }
    }

    @Test(.enabled(if: WarrenRoomsCLITests.warren != nil, "no warren program beside the test binary"))
    func roomsCreatesInvitesListsAndLeavesThroughTheAPI() async throws {
        try await RoomsWeb.chat(history: false, setup: .live) { store, chat, http in
            let port = try #require(http.port)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-tokens-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var files: [String: String] = [:]
            for name in ["alice", "bob", "carol"] {
                let file = folder.appendingPathComponent(name).path
                try Data(try await APIMessagesTests.register(http, name).utf8).write(to: URL(fileURLWithPath: file))
                files[name] = file
            }
            let tokens = files
            let bobTab = try await chat.tab("bob")
            func rooms(_ name: String, _ arguments: String...) async throws -> ProgramRun {
                let options = ["--token-file", tokens[name]!, "--url", "http://localhost:\(port)"]
                return try await ProgramRun.run("warren", ["rooms"] + arguments + options, environment: Self.environment(chat))
            }

            let made = try await rooms("alice", "create", "Ops", "--private")
            #expect(made.status == 0, "\(made.transcript)")
            #expect(made.output == "made ops (private)\n", "\(made.transcript)")
            let invited = try await rooms("alice", "invite", "ops", "bob")
            #expect(invited.status == 0, "\(invited.transcript)")
            try await bobTab.events.first("bob's invitation, in his open tab") { $0.kind == .rooms && $0.room == "ops" }
            let listed = try await rooms("bob", "list")
            #expect(listed.output.split(separator: "\n").first == "general (public)  0 unread", "\(listed.transcript)")
            #expect(listed.output.contains("ops (private)  0 unread"), "\(listed.transcript)")
            let members = try await rooms("bob", "members", "ops")
            #expect(members.output == "alice\nbob\n", "\(members.transcript)")

            // Carol may not join a private room: it is not found to her.
            let intruder = try await rooms("carol", "join", "ops")
            #expect(intruder.status == 1, "\(intruder.transcript)")
            #expect(intruder.errors.contains(Refusal.Code.roomNotFound.rawValue), "\(intruder.transcript)")
            let direct = try await rooms("alice", "dm", "carol")
            #expect(direct.output == "dm.5.alice.carol\n", "\(direct.transcript)")
            #expect(try await store.rooms.isMember(room: "dm.5.alice.carol", member: "carol"))

            let left = try await rooms("bob", "leave", "ops")
            #expect(left.status == 0, "\(left.transcript)")
            #expect(try await !store.rooms.isMember(room: "ops", member: "bob"))
            #expect(try await rooms("alice", "invite", "ops", "bob").status == 0)
            let notHers = try await rooms("bob", "remove", "ops", "alice")
            #expect(notHers.status == 1)
            #expect(notHers.errors.contains(Refusal.Code.roomNotCreator.rawValue), "\(notHers.transcript)")
            let removed = try await rooms("alice", "remove", "ops", "bob")
            #expect(removed.output == "removed bob from ops (private)\n", "\(removed.transcript)")
            #expect(try await !store.rooms.isMember(room: "ops", member: "bob"))
            let general = try await rooms("bob", "leave", "general")
            #expect(general.status == 1)
            #expect(general.errors.contains(Refusal.Code.roomCannotLeave.rawValue), "\(general.transcript)")
            let nowhere = try await ProgramRun.run(
                "warren", ["rooms", "list", "--token-file", tokens["bob"]!, "--url", "ftp://localhost"], environment: Self.environment(chat)
            )
            #expect(nowhere.status == 1)
            #expect(nowhere.errors.contains("--url ftp://localhost"), "\(nowhere.transcript)")
        }
    }
}
