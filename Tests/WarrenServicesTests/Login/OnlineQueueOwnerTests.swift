import AMQPProtocol
import Testing
import WarrenCore

@testable import WarrenServices

/// Which broker consumer events the login service turns into `online` events.
struct OnlineQueueOwnerTests {
    let topology = try! Topology(prefix: "chat")

    func owner(_ queue: String, vhost: String = "warren") -> String? {
        LoginRole.onlineQueueOwner(["queue": .string(queue), "vhost": .string(vhost)], vhost: "warren", topology: self.topology)
    }

    @Test func onlyOnlineQueuesOfThisDeploymentAndVhostCount() {
        #expect(self.owner("chat.user.alice.online") == "alice")
        #expect(self.owner("chat.user.alice.x.online") == "alice.x", "a login with a dot")
        #expect(self.owner("chat.user.alice.online", vhost: "/") == nil, "another vhost")
        #expect(self.owner("staging.chat.user.alice.online") == nil, "another deployment")
        #expect(self.owner("chat.user.alice.AAAAAAAAAAAAAAAAAAAAAA") == nil, "a tab queue")
        #expect(self.owner("chat.inbox") == nil)
        #expect(LoginRole.onlineQueueOwner(nil, vhost: "warren", topology: self.topology) == nil)
        #expect(LoginRole.onlineQueueOwner(["queue": .string("chat.user.alice.online")], vhost: "warren", topology: self.topology) == nil)
    }
}
