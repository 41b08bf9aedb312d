import Testing
import WarrenCore
import WarrenServices

@Suite struct TopologyDeclarerTests {
    @Test func workQueuesDeadLetterToTheDeadQueue() throws {
        let declarer = TopologyDeclarer(topology: try Topology(prefix: "x"), userQueueTTLMs: 1000, userQueueMaxLength: 5)
        #expect(declarer.workQueueArguments["x-dead-letter-routing-key"]?.stringValue == "x.dead")
        #expect(declarer.workQueueArguments["x-dead-letter-exchange"]?.stringValue == "")
        #expect(declarer.workQueues.count == 5)
        #expect(declarer.userQueueArguments["x-expires"] == .int64(1000))
        #expect(declarer.userQueueArguments["x-max-length"] == .int64(5))
        #expect(declarer.workQueueArguments["x-queue-type"] == nil)
    }

    @Test func quorumMakesTheSharedQueuesQuorumWithADeliveryLimitButNotTheTabQueues() throws {
        let declarer = TopologyDeclarer(topology: try Topology(prefix: "x"), queueType: .quorum)
        #expect(declarer.workQueueArguments["x-queue-type"]?.stringValue == "quorum")
        #expect(declarer.workQueueArguments["x-delivery-limit"] == .int64(Int64(TopologyDeclarer.deliveryLimit)))
        #expect(declarer.workQueueArguments["x-dead-letter-routing-key"]?.stringValue == "x.dead")
        #expect(declarer.historyQueueArguments["x-queue-type"]?.stringValue == "quorum")
        #expect(declarer.historyQueueArguments["x-delivery-limit"] == nil)
        #expect(declarer.cronQueueArguments["x-queue-type"]?.stringValue == "quorum")
        #expect(declarer.cronLastArguments["x-queue-type"]?.stringValue == "quorum")
        #expect(declarer.userQueueArguments["x-queue-type"] == nil)
    }
}
