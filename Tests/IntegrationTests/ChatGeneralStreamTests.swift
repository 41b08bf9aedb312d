import AMQPClient
import Foundation
import Testing
import WarrenCore
import WarrenServices

/// `WARREN_GENERAL_STREAM=on`: general reaches tabs through one stream that every tab reads at
/// its own offset, no longer through each tab's queue (docs/design.md, general as a stream).
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL / WARREN_TEST_AMQP_URL)"))
struct ChatGeneralStreamTests {
    static let streamOn = ["WARREN_GENERAL_STREAM": "on"]

    /// A person routed before the stream was switched on keeps no binding to general: their tab
    /// queues stop getting it, and the stream carries it once, with its offsets.
    @Test func generalGoesToTheStreamAndNotToTabQueues() async throws {
        try await ChatHarness.with(environment: Self.streamOn) { chat in
            // Carol's exchange as a run without the stream left it: bound to general.
            let old = TopologyDeclarer(topology: chat.topology, generalStream: false)
            let channel = try await chat.connection.openChannel()
            try await old.declarePerson("carol", rooms: [ChatRoom.general], on: channel)
            chat.people.withLockedValue { _ = $0.insert("carol") }

            let reader = EventLog()
            let offsets = try await reader.consumeStream(chat.topology.generalStream, on: try await chat.connection.openChannel())
            try await chat.start(chat.login())
            let carol = try await chat.tab("carol")
            let dave = try await chat.tab("dave")
            for index in 0..<25 { try await dave.post("through the stream \(index)") }
            try await reader.wait("the posts on the stream") { $0.filter { $0.kind == .message }.count == 25 }
            // The login's presence events came first; every delivery has the next offset.
            #expect(offsets.all == Array(offsets.all.indices).map { offsets.all[0] + Int64($0) })
            // The stream is routed in the same step as any queue bound to general would be: by
            // the time it holds the posts, a tab queue still bound would hold them too.
            try await Task.sleep(for: .milliseconds(300))
            for tab in [carol, dave] {
                #expect(tab.events.all.filter { $0.kind == .message }.isEmpty, "\(tab.login)'s queue got general")
            }
            try await channel.close()
        }
    }

    /// Posts keep coming while a tab signs in the way the page does (the stream first, at
    /// `next`, then the login): its backfill and the stream together hold every event from its
    /// first, none missing.
    @Test func backfillAndTheStreamMeetWithNoGap() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(environment: Self.streamOn, timeout: 60) { chat in
                let watcher = try await chat.roomWatcher()
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)
                let bob = try await chat.tab("bob")
                let total = 160
                let posting = Task {
                    for index in 0..<total {
                        try await bob.post("post \(index)")
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                try await watcher.wait("the posts to flow") { $0.filter { $0.kind == .message }.count >= 70 }
                let beforeLogin = Set(watcher.all.map(\.id))
                let alice = EventLog()
                let channel = try await chat.connection.openChannel()
                try await alice.consumeStream(chat.topology.generalStream, on: channel)
                let tab = try await chat.tab("alice")
                try await posting.value
                try await watcher.wait("every post", within: 30) { $0.filter { $0.kind == .message }.count >= total }

                let routed = watcher.all.map(\.id).sorted()
                func seen() -> [String] { alice.all.map(\.id) + tab.events.all.map(\.id) }
                try await eventually("alice to have every event from her first", within: 30) {
                    guard let first = seen().min() else { return false }
                    return Set(routed.filter { $0 >= first }).isSubset(of: Set(seen()))
                }
                let first = try #require(seen().min())
                #expect(Set(seen()).sorted() == routed.filter { $0 >= first })
                #expect(!beforeLogin.isDisjoint(with: seen()), "no backfill")
                #expect(tab.events.all.contains { $0.kind == .message }, "the backfill did not come through the tab queue")
            }
        }
    }

    /// A tab that comes back resumes at the offset after the last one it saw: nothing missed,
    /// nothing twice.
    @Test func aReaderResumesAtItsOffset() async throws {
        try await ChatHarness.with(environment: Self.streamOn) { chat in
            try await chat.start(chat.login())
            let bob = try await chat.tab("bob")
            let before = EventLog()
            let channel = try await chat.connection.openChannel()
            let offsets = try await before.consumeStream(chat.topology.generalStream, on: channel)
            for index in 0..<5 { try await bob.post("before \(index)") }
            try await before.wait("the first posts") { $0.filter { $0.kind == .message }.count == 5 }
            try await channel.close()
            let last = try #require(offsets.all.last)
            for index in 0..<5 { try await bob.post("while away \(index)") }

            let after = EventLog()
            try await after.consumeStream(chat.topology.generalStream, on: try await chat.connection.openChannel(), from: .offset(last + 1))
            try await after.wait("the posts made while away") { $0.filter { $0.kind == .message }.count >= 5 }
            try await Task.sleep(for: .milliseconds(200))
            #expect(after.all.filter { $0.kind == .message }.map(\.text) == (0..<5).map { "while away \($0)" })
            #expect(Set(after.all.map(\.id)).isDisjoint(with: Set(before.all.map(\.id))))
        }
    }
}
