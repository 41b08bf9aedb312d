import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenCore
import WarrenServices
import WarrenWeb

/// `/api/history` and `/api/search` of the web role, through the real broker to a history role
/// on a SQLite store in a temporary file.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct WebHistoryTests {
    @Test func historyAndSearchAnsweredThroughTheBroker() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 60) { chat in
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)  // consuming before alice's presence is routed
                let client = HistoryRPCClient(configuration: chat.configuration, timeout: .seconds(5), logger: chat.logger)
                try await chat.start(client)
                let alice = try await chat.tab("alice")
                for index in 0..<12 { _ = try await alice.post(index % 3 == 0 ? "needle \(index)" : "hay \(index)") }
                // 12 posts and alice's presence line.
                try await watcher.wait("every post", within: 15) { $0.count >= 13 }
                let routed = watcher.all.map(\.id).sorted()
                try await eventually("the store to hold every event") { try await store.events.count() >= routed.count }

                let web = WebConfiguration(webRoot: FileManager.default.temporaryDirectory.path)
                let app = buildApplication(configuration: web, brokerReachable: { true }, history: client, logger: chat.logger)
                try await app.test(.router) { http in
                    // The client connects in its own task: wait for its first answer.
                    try await eventually("the web role's history client to answer") {
                        try await http.execute(uri: "/api/history?limit=1", method: .get) { $0.status == .ok }
                    }
                    let latest = try await http.execute(uri: "/api/history?limit=5", method: .get) { response in
                        #expect(response.status == .ok)
                        return try HistoryReply.decode(Data(buffer: response.body))
                    }
                    #expect(latest.events?.map(\.id) == Array(routed.suffix(5)))

                    let oldestShown = try #require(latest.events?.first?.id)
                    let earlier = try await http.execute(uri: "/api/history?before=\(oldestShown)&limit=50", method: .get) { response in
                        #expect(response.status == .ok)
                        return try HistoryReply.decode(Data(buffer: response.body))
                    }
                    #expect(earlier.events?.map(\.id) == Array(routed.dropLast(5)))

                    let found = try await http.execute(uri: "/api/search?q=needle&limit=20", method: .get) { response in
                        #expect(response.status == .ok)
                        return try HistoryReply.decode(Data(buffer: response.body))
                    }
                    #expect(found.events?.map(\.text) == ["needle 9", "needle 6", "needle 3", "needle 0"])

                    try await http.execute(uri: "/api/history?before=01JF&limit=5", method: .get) { response in
                        #expect(response.status == .badRequest)
                        let reply = try HistoryReply.decode(Data(buffer: response.body))
                        #expect(reply.code == "history.idInvalid")
                    }
                }
            }
        }
    }
}
