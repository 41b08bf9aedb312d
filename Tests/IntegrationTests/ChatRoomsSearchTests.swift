import Foundation
import HummingbirdTesting
import Testing
import WarrenCore
import WarrenStore

/// Search within the rooms a person belongs to, through the real broker, login service, history
/// role and store (SQLite and PostgreSQL): `GET /api/search` covers every room of the asker and
/// no other, `GET /api/rooms/{id}/search` one room of theirs, and `warren rooms search` both.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatRoomsSearchTests {
    @Test(arguments: HistoryBackend.available)
    func searchFindsOnlyTheAskersRooms(backend: HistoryBackend) async throws {
        try await RoomsWeb.chat(history: true, backend: backend, setup: .live) { store, chat, http in
            let (alice, bob) = try await RoomsWeb.aliceAndBobInPrivateOps(http)
            let carol = try await APIMessagesTests.register(http, "carol")
            // carol's public room, which alice and bob never joined; alice and bob's direct message.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms", ["name": "lounge"], token: carol).status == .created)
            let dm = try await RoomsWeb.call(http, "POST", "/api/dm", ["name": "bob"], token: alice)
            let dmID = try #require((try RoomsWeb.json(dm)["room"] as? [String: Any])?["id"] as? String)

            let said = [
                "ops": try await RoomsWeb.say(http, "needle in ops", in: "ops", token: alice),
                "lounge": try await RoomsWeb.say(http, "needle in lounge", in: "lounge", token: carol),
                "general": try await RoomsWeb.say(http, "needle in general", in: "general", token: bob),
                dmID: try await RoomsWeb.say(http, "needle whispered", in: dmID, token: alice),
            ]
            try await eventually("the four posts to be stored") {
                try await store.events.search("needle", limit: 10).count == said.count
            }

            /// The rooms of the events `/api/search` finds for `token`.
            func found(_ token: String, _ uri: String = "/api/search?q=needle") async throws -> Set<String> {
                let answer = try await RoomsWeb.call(http, "GET", uri, token: token)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                let events = try RoomsWeb.json(answer)["events"] as? [[String: Any]] ?? []
                for event in events { #expect(said[event["room"] as? String ?? ChatRoom.general] == event["id"] as? String) }
                return Set(events.map { $0["room"] as? String ?? ChatRoom.general })
            }
            #expect(try await found(alice) == ["ops", "general", dmID])
            #expect(try await found(bob) == ["ops", "general", dmID])
            #expect(try await found(carol) == ["lounge", "general"], "carol must find nothing of ops nor of the direct message")

            // One room: a member's only; a private room is not found by others, a public one refused.
            #expect(try await found(alice, "/api/rooms/ops/search?q=needle") == ["ops"])
            let hidden = try await RoomsWeb.call(http, "GET", "/api/rooms/ops/search?q=needle", token: carol)
            #expect(hidden.status == .notFound)
            #expect(!String(buffer: hidden.body).contains("needle in ops"))
            let outside = try await RoomsWeb.call(http, "GET", "/api/rooms/lounge/search?q=needle", token: alice)
            #expect(outside.status == .forbidden)
            #expect(try RoomsWeb.code(outside) == Refusal.Code.roomNotMember.rawValue)
            let empty = try await RoomsWeb.call(http, "GET", "/api/rooms/ops/search?q=%20", token: alice)
            #expect(empty.status == .badRequest)
            #expect(try RoomsWeb.code(empty) == Refusal.Code.historyQueryInvalid.rawValue)

            // Bob leaves ops: its posts are no longer his to find.
            #expect(try await RoomsWeb.call(http, "POST", "/api/rooms/ops/leave", token: bob).status == .ok)
            #expect(try await found(bob) == ["general", dmID])

            // The same from a shell.
            guard backend == .sqlite, WarrenRoomsCLITests.warren != nil, let port = http.port else { return }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-tokens-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("carol").path
            try Data(carol.utf8).write(to: URL(fileURLWithPath: file))
            let options = ["--token-file", file, "--url", "http://localhost:\(port)"]
            let all = try await ProgramRun.run("warren", ["rooms", "search", "needle"] + options, environment: WarrenRoomsCLITests.environment(chat))
            #expect(all.status == 0, "\(all.transcript)")
            #expect(all.output.contains("#lounge message carol: needle in lounge"), "\(all.transcript)")
            #expect(all.output.contains("message bob: needle in general"), "\(all.transcript)")
            #expect(!all.output.contains("needle in ops") && !all.output.contains("whispered"), "\(all.transcript)")
            let refused = try await ProgramRun.run("warren", ["rooms", "search", "needle", "--room", "ops"] + options, environment: WarrenRoomsCLITests.environment(chat))
            #expect(refused.status == 1, "\(refused.transcript)")
            #expect(refused.errors.contains(Refusal.Code.roomNotFound.rawValue), "\(refused.transcript)")
        }
    }
}
