import Testing
import WarrenCore
@testable import WarrenAuth

@Suite("Broker permissions")
struct BrokerPolicyTests {
    let policy = BrokerPolicy(topology: try! Topology(prefix: "chat"), vhost: "warren")
    let session = "AAAAAAAAAAAAAAAAAAAAAA"

    func allows(_ resource: BrokerResource, _ name: String, _ permission: BrokerPermission, user: String = "alice", vhost: String = "warren") -> Bool {
        policy.allowsResource(user: user, vhost: vhost, resource: resource, name: name, permission: permission)
    }

    @Test func theTempQueueMayBeConfiguredAndRead() {
        #expect(allows(.queue, "amq.gen-abc123", .configure))
        #expect(allows(.queue, "amq.gen-abc123", .read))
        #expect(!allows(.queue, "amq.gen-abc123", .write))
        #expect(!allows(.queue, "amq.gen-", .configure))
        #expect(!allows(.exchange, "amq.gen-abc123", .configure))
    }

    @Test func onlyOwnTabQueuesMayBeRead() {
        #expect(allows(.queue, "chat.user.alice.\(session)", .read))
        #expect(!allows(.queue, "chat.user.bob.\(session)", .read))
        #expect(!allows(.queue, "chat.user.alice.x.\(session)", .read), "alice.x's queue")
        #expect(!allows(.queue, "chat.user.alice.short", .read))
        #expect(!allows(.queue, "chat.user.alice.", .read))
        #expect(!allows(.queue, "chat.user.Alice.\(session)", .read), "names are exact")
        #expect(!allows(.queue, "chat.user.alice.\(session)", .configure))
        #expect(!allows(.queue, "chat.user.alice.\(session)", .write))
        #expect(!allows(.queue, "other.user.alice.\(session)", .read))
    }

    @Test func onlyOwnOnlineQueueMayBeRead() {
        #expect(allows(.queue, "chat.user.alice.online", .read))
        #expect(!allows(.queue, "chat.user.bob.online", .read))
        #expect(!allows(.queue, "chat.user.alice.online.online", .read), "alice.online's online queue")
        #expect(!allows(.queue, "chat.user.alice.online", .configure))
        #expect(!allows(.queue, "chat.user.alice.online", .write))
    }

    @Test func everyoneMayReadGeneralsStreamAndNoOtherStream() {
        #expect(allows(.queue, "chat.stream.general", .read))
        #expect(allows(.queue, "chat.stream.general", .read, user: "bob"))
        #expect(!allows(.queue, "chat.stream.ops", .read), "a room's stream other than general's")
        #expect(!allows(.queue, "chat.stream.general", .configure))
        #expect(!allows(.queue, "chat.stream.general", .write))
        #expect(!allows(.queue, "other.stream.general", .read), "another deployment's")
        #expect(!allows(.queue, "chat.stream.general", .read, vhost: "other"))
    }

    @Test func onlyLoginAndInboxMayBeWrittenThroughTheEntryExchange() {
        #expect(allows(.exchange, "chat.in", .write))
        #expect(allows(.queue, "chat.login", .write))
        #expect(allows(.queue, "chat.inbox", .write))
        #expect(!allows(.exchange, "amq.default", .write), "the default exchange reaches every queue of the services")
        #expect(!allows(.exchange, "chat.in", .read))
        #expect(!allows(.exchange, "chat.in", .configure))
        #expect(!allows(.exchange, "amq.default", .read))
        #expect(!allows(.exchange, "amq.default", .configure))
        #expect(!allows(.exchange, "chat.rooms", .write))
        #expect(!allows(.exchange, "chat.u.bob", .write))
        #expect(!allows(.exchange, "chat.u.alice", .read), "no binding from her own exchange either")
        #expect(!allows(.exchange, "chat.room", .write))
        #expect(!allows(.exchange, "chat.posts", .write))
        #expect(!allows(.exchange, "amq.topic", .write))
        #expect(!allows(.queue, "chat.inbox", .read))
        #expect(!allows(.queue, "chat.login", .configure))
        #expect(!allows(.queue, "chat.history", .write))
    }

    /// Binding a person's exchange to a room takes write on it and read on the rooms exchange
    /// (queue bindings: write on the queue, read on the exchange): only services do that.
    @Test func browsersCannotBindThemselvesToRooms() {
        for name in ["chat.rooms", "chat.u.alice", "chat.u.bob", "chat.posts"] {
            for permission in [BrokerPermission.configure, .read, .write] {
                #expect(!allows(.exchange, name, permission), "\(name) \(permission)")
            }
        }
        #expect(!allows(.queue, "chat.user.alice.\(session)", .write), "no binding a room to one's own tab queue")
        #expect(!policy.allowsTopic())
    }

    @Test func nothingElse() {
        #expect(!allows(.queue, "chat.history", .read))
        #expect(!allows(.queue, "chat.anything", .configure))
        #expect(!allows(.exchange, "chat.room", .read))
        #expect(!allows(.exchange, "chat.room", .configure))
        #expect(!policy.allowsTopic())
    }

    @Test func anotherVhostOrAnInvalidNameIsDenied() {
        #expect(!allows(.exchange, "chat.in", .write, vhost: "/"))
        #expect(!allows(.exchange, "chat.in", .write, user: "bad name"))
        #expect(!allows(.queue, "amq.gen-x", .read, user: ""))
        #expect(policy.allowsVhost(user: "alice", vhost: "warren"))
        #expect(!policy.allowsVhost(user: "alice", vhost: "/"))
    }

    @Test func theConfiguredPrefixIsUsed() throws {
        let other = BrokerPolicy(topology: try Topology(prefix: "team-a.chat"), vhost: "warren")
        #expect(other.allowsResource(user: "alice", vhost: "warren", resource: .queue, name: "team-a.chat.inbox", permission: .write))
        #expect(!other.allowsResource(user: "alice", vhost: "warren", resource: .queue, name: "chat.inbox", permission: .write))
        #expect(other.allowsResource(user: "alice", vhost: "warren", resource: .queue, name: "team-a.chat.user.alice.\(session)", permission: .read))
        #expect(!other.allowsResource(user: "alice", vhost: "warren", resource: .queue, name: "chat.user.alice.\(session)", permission: .read))
    }
}
