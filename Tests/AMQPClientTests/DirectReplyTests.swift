import NIOCore
import Synchronization
import Testing

@testable import AMQPClient

/// The reply path's decisions (``DirectReplyPolicy``) and the turns of its retries
/// (``ReplyTurns``), with no broker; the broker's side is `DirectReplyNodeLossTests`.
@Suite struct DirectReplyTests {
    static let internalError = AMQPError.brokerClosedConnection(replyCode: 541, replyText: "INTERNAL_ERROR", classID: 0, methodID: 0)

    @Test func onlyDirectReplyToAddressesTakeTheReplyPath() {
        #expect(DirectReplyPolicy.isDirect("amq.rabbitmq.reply-to.g1h2AA5yZXBseUAyNzk2NjMxNwAAC3MAAAAHZhaYWw==.dtUQzuMEvgmDBHN7Xh6Qxw=="))
        #expect(!DirectReplyPolicy.isDirect("amq.rabbitmq.reply-to"), "the pseudo-queue a requester names, never a reply's address")
        #expect(!DirectReplyPolicy.isDirect("amq.gen-JzTY20BRgKO-HjmUJj0wLg"), "a STOMP /temp-queue/ is a real queue")
        #expect(!DirectReplyPolicy.isDirect("chat.user.alice.s1"))
        #expect(!DirectReplyPolicy.isDirect(""))
    }

    @Test func onlyAConnectionClosedWith541IsTheBrokersRefusalOfAGoneRequester() {
        #expect(DirectReplyPolicy.isInternalErrorClose(Self.internalError))
        let channel541 = AMQPError.brokerClosedChannel(channelID: 1, replyCode: 541, replyText: "INTERNAL_ERROR", classID: 60, methodID: 40)
        #expect(!DirectReplyPolicy.isInternalErrorClose(channel541))
        let forced = AMQPError.brokerClosedConnection(replyCode: 320, replyText: "CONNECTION_FORCED", classID: 0, methodID: 0)
        #expect(!DirectReplyPolicy.isInternalErrorClose(forced))
        #expect(!DirectReplyPolicy.isInternalErrorClose(AMQPError.connectionClosed()))
    }

    @Test func aFirstFailureOfTheConnectionIsTriedAgainAndABrokerRefusalIsNot() {
        let retried: [AMQPError] = [
            Self.internalError,
            AMQPError.brokerClosedConnection(replyCode: 320, replyText: "CONNECTION_FORCED", classID: 0, methodID: 0),
            AMQPError.connectionClosed(),
            AMQPError(code: .connectionFailed, message: "no broker node answered"),
            AMQPError(code: .heartbeatTimeout, message: "missed heartbeats"),
            AMQPError(code: .timeout, message: "no confirm"),
            AMQPError(code: .publishNacked, message: "nacked"),
            AMQPError.channelClosed(1),
        ]
        for error in retried {
            #expect(DirectReplyPolicy.afterShared(error) == .retryAlone, "\(error)")
        }
        let thrown: [AMQPError] = [
            AMQPError.brokerClosedChannel(channelID: 1, replyCode: 403, replyText: "ACCESS_REFUSED", classID: 60, methodID: 40),
            AMQPError.brokerClosedChannel(channelID: 1, replyCode: 404, replyText: "NOT_FOUND", classID: 60, methodID: 40),
            AMQPError.brokerClosedChannel(channelID: 1, replyCode: 506, replyText: "RESOURCE_ERROR", classID: 60, methodID: 40),
            AMQPError(code: .frameTooLarge, message: "too large"),
        ]
        for error in thrown {
            #expect(DirectReplyPolicy.afterShared(error) == .fail, "\(error)")
        }
    }

    @Test func aloneOnItsConnectionA541IsThisRepliesAndItIsDropped() {
        #expect(DirectReplyPolicy.afterAlone(Self.internalError) == .drop)
        #expect(DirectReplyPolicy.afterAlone(AMQPError.connectionClosed()) == .fail)
        #expect(DirectReplyPolicy.afterAlone(AMQPError(code: .connectionFailed, message: "no node")) == .fail)
        #expect(DirectReplyPolicy.afterAlone(AMQPError(code: .timeout, message: "no confirm")) == .fail)
    }

    @Test func aConfigurationAimedAtANodeStillNamesEveryNode() throws {
        let configuration = try AMQPConfiguration(urlList: "amqp://u:p@h1:1/w,amqp://u:p@h2:2/w,amqp://u:p@h3:3/w")
        let nodes = configuration.endpoints
        #expect(configuration.aimed(at: nodes[1]).endpoints == [nodes[1], nodes[2], nodes[0]], "the reply path starts at its owner's node")
        #expect(configuration.aimed(at: nodes[2]).endpoints == [nodes[2], nodes[0], nodes[1]])
        #expect(configuration.aimed(at: nodes[0]).endpoints == nodes)
        let single = try AMQPConfiguration(urlList: "amqp://u:p@h1:1/w")
        #expect(single.aimed(at: single.endpoints[0]).endpoints == single.endpoints)
    }

    @Test func aRetryGoesOnlyOnAConnectionOpenedAfterItsFailure() {
        let failed = ContinuousClock.now
        #expect(DirectReplyPolicy.mayCarryRetry(openedAt: failed + .milliseconds(1), failedAt: failed))
        #expect(!DirectReplyPolicy.mayCarryRetry(openedAt: failed, failedAt: failed))
        #expect(!DirectReplyPolicy.mayCarryRetry(openedAt: failed - .seconds(1), failedAt: failed))
    }

    @Test func turnsComeOneAtATimeInTheOrderAsked() async throws {
        let turns = ReplyTurns()
        try await turns.begin(within: .seconds(5))
        #expect(turns.isHeld)
        let order = OrderLog()
        let second = Task {
            try await turns.begin(within: .seconds(5))
            order.append(2)
            turns.end()
        }
        try await Self.until { turns.waitingCount == 1 }
        let third = Task {
            try await turns.begin(within: .seconds(5))
            order.append(3)
            turns.end()
        }
        try await Self.until { turns.waitingCount == 2 }
        order.append(1)
        turns.end()
        try await second.value
        try await third.value
        #expect(order.values == [1, 2, 3])
        #expect(!turns.isHeld)
        #expect(turns.waitingCount == 0)
    }

    @Test func aTurnThatDoesNotComeInTimeThrowsAndLeavesTheLine() async throws {
        let turns = ReplyTurns()
        try await turns.begin(within: .seconds(5))
        let started = ContinuousClock.now
        await #expect(throws: AMQPError.self) { try await turns.begin(within: .milliseconds(100)) }
        // Its bound (100 ms) ended the wait, not a hang: generous, as a loaded machine is slow.
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(turns.waitingCount == 0)
        turns.end()
        #expect(!turns.isHeld, "the late caller holds no turn")
        try await turns.begin(within: .milliseconds(100))
        turns.end()
    }

    @Test func aTimerThatFiresAfterItsTurnCameKeepsNothing() async throws {
        let turns = ReplyTurns()
        try await turns.begin(within: .seconds(5))
        let second = Task { try await turns.begin(within: .seconds(30)) }
        try await Self.until { turns.waitingCount == 1 }
        turns.end()
        try await second.value
        // The second caller's timer (ticket 1) firing now, after its turn came, as a race allows.
        turns.expire(1, limit: .seconds(30))
        #expect(turns.keptTickets == 0)
        turns.end()
        #expect(!turns.isHeld)
    }

    /// Waits (at most 5 s) until `condition` holds.
    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw AMQPError(code: .timeout, message: "condition not met in 5 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

private final class OrderLog: Sendable {
    private let box = Mutex<[Int]>([])
    var values: [Int] { self.box.withLock { $0 } }
    func append(_ value: Int) { self.box.withLock { $0.append(value) } }
}
