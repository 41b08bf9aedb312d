import AMQPProtocol
import Testing

@testable import AMQPClient

@Suite("RecoveryTopology")
struct RecoveryTopologyTests {
    typealias Step = RecoveryTopology.Step

    static func serverNamed(_ name: String) -> Step {
        .queue(name: name, serverNamed: true, durable: false, exclusive: true, autoDelete: true, arguments: [:])
    }

    static func binding(_ queue: String, _ exchange: String = "chat", key: String = "") -> Step {
        .queueBinding(queue: queue, exchange: exchange, routingKey: key, arguments: [:])
    }

    @Test func aRenameMovesTheDeclarationAndItsBindingsAndNothingElse() {
        var topology = RecoveryTopology()
        let exchange = Step.exchange(name: "chat", type: "fanout", durable: false, autoDelete: false, internal: false, arguments: [:])
        topology.record(exchange)
        topology.record(Self.serverNamed("amq.gen-A"))
        topology.record(Self.binding("amq.gen-A", key: "one"))
        topology.record(Self.binding("other"))
        topology.record(Self.binding("amq.gen-A", "events", key: "two"))

        topology.queueRenamed(from: "amq.gen-A", to: "amq.gen-B")

        #expect(
            topology.steps == [
                exchange,
                Self.serverNamed("amq.gen-B"),
                Self.binding("amq.gen-B", key: "one"),
                Self.binding("other"),
                Self.binding("amq.gen-B", "events", key: "two"),
            ]
        )
        #expect(topology.currentName(of: "amq.gen-A") == "amq.gen-B")
        #expect(topology.currentName(of: "amq.gen-B") == "amq.gen-B")
        #expect(topology.currentName(of: "other") == "other")
    }

    @Test func everyEarlierNameLeadsToTheLatestAfterSeveralRecoveries() {
        var topology = RecoveryTopology()
        topology.record(Self.serverNamed("amq.gen-A"))
        topology.queueRenamed(from: "amq.gen-A", to: "amq.gen-B")
        topology.queueRenamed(from: "amq.gen-B", to: "amq.gen-C")
        #expect(topology.currentName(of: "amq.gen-A") == "amq.gen-C")
        #expect(topology.currentName(of: "amq.gen-B") == "amq.gen-C")
        #expect(topology.currentName(of: "amq.gen-C") == "amq.gen-C")
        #expect(topology.steps == [Self.serverNamed("amq.gen-C")])
    }

    @Test func deletingByAnEarlierNameForgetsTheQueueItsBindingsAndItsNames() {
        var topology = RecoveryTopology()
        topology.record(Self.serverNamed("amq.gen-A"))
        topology.record(Self.binding("amq.gen-A"))
        topology.record(Self.binding("kept"))
        topology.queueRenamed(from: "amq.gen-A", to: "amq.gen-B")
        topology.forgetQueue("amq.gen-A")
        #expect(topology.steps == [Self.binding("kept")])
        #expect(topology.currentName(of: "amq.gen-A") == "amq.gen-A")
    }

    @Test func aStepRecordedTwiceIsRepeatedOnce() {
        var topology = RecoveryTopology()
        topology.record(Self.binding("q"))
        topology.record(Self.binding("q"))
        topology.record(Self.binding("q", key: "other"))
        #expect(topology.steps.count == 2)
    }

    @Test func renamingToTheSameNameChangesNothing() {
        var topology = RecoveryTopology()
        topology.record(Self.serverNamed("amq.gen-A"))
        let before = topology
        topology.queueRenamed(from: "amq.gen-A", to: "amq.gen-A")
        #expect(topology == before)
    }
}

@Suite("NackRun")
struct NackRunTests {
    @Test func theNackThatCompletesARunAsksForANewChannelAndCountingStartsOver() {
        var run = NackRun(limit: 3)
        #expect(run.nacked() == false)
        #expect(run.nacked() == false)
        #expect(run.nacked() == true)
        #expect(run.count == 0)
        #expect(run.nacked() == false)
        #expect(run.nacked() == false)
        #expect(run.nacked() == true)
    }

    @Test func anAckEndsTheRun() {
        var run = NackRun(limit: 3)
        #expect(run.nacked() == false)
        #expect(run.nacked() == false)
        run.acked()
        #expect(run.count == 0)
        #expect(run.nacked() == false)
        #expect(run.nacked() == false)
        #expect(run.nacked() == true)
    }

    @Test func limitOneReopensOnEveryNackAndZeroNever() {
        var one = NackRun(limit: 1)
        #expect(one.nacked() && one.nacked())
        var zero = NackRun(limit: 0)
        #expect((0..<100).allSatisfy { _ in !zero.nacked() })
        #expect(NackRun(limit: -2).limit == 0)
    }

    @Test func thePolicyCarriesTheLimit() {
        #expect(AMQPRecoveryPolicy().nackRunLimit == 3)
        #expect(AMQPRecoveryPolicy(nackRunLimit: 5).nackRunLimit == 5)
        #expect(AMQPRecoveryPolicy(nackRunLimit: -1).nackRunLimit == 0)
    }
}
