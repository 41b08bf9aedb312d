import Testing
@testable import WarrenCore

@Suite("Topology names")
struct TopologyTests {
    @Test("every name under the default prefix")
    func names() throws {
        let topology = try Topology(prefix: "chat")
        #expect(topology.login == "chat.login")
        #expect(topology.inbox == "chat.inbox")
        #expect(topology.posts == "chat.posts")
        #expect(topology.rooms == "chat.rooms")
        #expect(topology.legacyRoom == "chat.room")
        #expect(topology.person("alice.b") == "chat.u.alice.b")
        #expect(Topology.roomKey("ops") == "room.ops")
        #expect(Topology.historyBindingKey == "room.#")
        #expect(topology.botReverser == "chat.bot.reverser")
        #expect(topology.powJobs == "chat.pow.jobs")
        #expect(topology.powRPC == "chat.pow.rpc")
        #expect(topology.history == "chat.history")
        #expect(topology.historyRPC == "chat.history.rpc")
        #expect(topology.dead == "chat.dead")
        #expect(topology.cron == "chat.cron")
        #expect(topology.cronLast == "chat.cron.last")
        #expect(topology.userQueue(login: "alice", session: "S") == "chat.user.alice.S")
        #expect(topology.userQueuePrefix(login: "alice") == "chat.user.alice.")
        #expect(Topology.reverserBindingKey == "post.*")
        #expect(Topology.replyQueueHeader == "x-warren-reply-queue")
    }

    @Test("a dotted prefix")
    func dottedPrefix() throws {
        let topology = try Topology(prefix: "staging.chat-2")
        #expect(topology.rooms == "staging.chat-2.rooms")
    }

    @Test("user queue names parse back, even with dots in the login")
    func parseUserQueue() throws {
        let topology = try Topology()
        let name = topology.userQueue(login: "a.b", session: "q83vEjRWeJCrze8SNFZ4kA")
        let parsed = try #require(topology.parseUserQueue(name))
        #expect(parsed.login == "a.b")
        #expect(parsed.session == "q83vEjRWeJCrze8SNFZ4kA")
        #expect(topology.parseUserQueue("chat.room") == nil)
        #expect(topology.parseUserQueue("chat.user.alice.short") == nil)
        #expect(topology.parseUserQueue("other.user.alice.q83vEjRWeJCrze8SNFZ4kA") == nil)
    }

    @Test("a room's stream is <prefix>.stream.<room id>, general's among them, and no tab queue")
    func roomStreams() throws {
        let topology = try Topology(prefix: "staging.chat")
        #expect(topology.generalStream == "staging.chat.stream.general")
        #expect(topology.roomStream("dm.5.alice.bob") == "staging.chat.stream.dm.5.alice.bob")
        #expect(topology.parseUserQueue(topology.generalStream) == nil)
    }

    @Test("a person's online queue is no tab queue: it does not parse as one")
    func onlineQueue() throws {
        let topology = try Topology()
        #expect(topology.onlineQueue(login: "alice") == "chat.user.alice.online")
        #expect(topology.parseUserQueue(topology.onlineQueue(login: "alice")) == nil)
        // "a.b"'s online queue reads like "a"'s tab "b.online", which no valid session id makes.
        #expect(throws: Refusal.self) { try Validation.session("b.online") }
    }

    @Test("bad prefixes are refused", arguments: ["", ".chat", "chat.", "a..b", "chat room", "chat/x", "chät", String(repeating: "a", count: 65), Array(repeating: "abcdefgh", count: 15).joined(separator: ".")])
    func badPrefixes(prefix: String) {
        #expect(throws: Refusal.self) { try Topology(prefix: prefix) }
    }

    @Test("a 64-character segment is fine")
    func longSegment() throws {
        let segment = String(repeating: "a", count: 64)
        #expect(try Topology(prefix: segment + ".b").prefix == segment + ".b")
    }
}
