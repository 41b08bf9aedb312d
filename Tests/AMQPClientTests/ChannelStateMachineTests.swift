import AMQPProtocol
import NIOCore
import Testing

@testable import AMQPClient

@Suite("ChannelStateMachine")
struct ChannelStateMachineTests {
    static func openChannel(id: UInt16 = 1) -> ChannelStateMachine {
        var machine = ChannelStateMachine(id: id)
        _ = machine.openRequested(1)
        _ = machine.methodReceived(Method.Channel.OpenOK().method)
        return machine
    }

    static let deliver = Method.Basic.Deliver(consumerTag: "c", deliveryTag: 7, exchange: "x", routingKey: "k")

    @Test func openHandshake() {
        var machine = ChannelStateMachine(id: 3)
        #expect(machine.openRequested(1) == .sendMethod(Method.Channel.Open().method))
        #expect(!machine.isOpen)
        #expect(machine.methodReceived(Method.Channel.OpenOK().method) == .succeedRequest(1, .method(Method.Channel.OpenOK().method)))
        #expect(machine.isOpen)
    }

    @Test func repliesMatchedInOrder() {
        var machine = Self.openChannel()
        let declare = Method.Queue.Declare(queue: "q").method
        let bind = Method.Queue.Bind(queue: "q", exchange: "x").method
        #expect(machine.requestSent(10, declare) == .sendMethod(declare))
        #expect(machine.requestSent(11, bind) == .sendMethod(bind))
        #expect(machine.pendingRequestCount == 2)
        let declareOK = Method.Queue.DeclareOK(queue: "q", messageCount: 0, consumerCount: 0).method
        #expect(machine.methodReceived(declareOK) == .succeedRequest(10, .method(declareOK)))
        #expect(machine.methodReceived(Method.Queue.BindOK().method) == .succeedRequest(11, .method(Method.Queue.BindOK().method)))
    }

    /// RabbitMQ's queue process sends basic.cancel-ok, so a later request's reply may overtake
    /// it (seen with a queue.declare right after leaving a consumer's loop).
    @Test func aReplyMayOvertakeCancelOKButNothingElse() {
        var machine = Self.openChannel()
        let cancelA = Method.Basic.Cancel(consumerTag: "a").method
        let cancelB = Method.Basic.Cancel(consumerTag: "b").method
        let declare = Method.Queue.Declare(queue: "q").method
        _ = machine.requestSent(10, cancelA)
        _ = machine.requestSent(11, cancelB)
        _ = machine.requestSent(12, declare)
        let declareOK = Method.Queue.DeclareOK(queue: "q", messageCount: 0, consumerCount: 0).method
        #expect(machine.methodReceived(declareOK) == .succeedRequest(12, .method(declareOK)))
        let okB = Method.Basic.CancelOK(consumerTag: "b").method
        #expect(machine.methodReceived(okB) == .succeedRequest(11, .method(okB)), "a cancel-ok answers its own consumer's cancel")
        let okA = Method.Basic.CancelOK(consumerTag: "a").method
        #expect(machine.methodReceived(okA) == .succeedRequest(10, .method(okA)))
        #expect(machine.pendingRequestCount == 0)

        // Only cancels can be passed: a bind-ok cannot answer a declare waiting behind a bind.
        _ = machine.requestSent(13, Method.Queue.Bind(queue: "q", exchange: "x").method)
        _ = machine.requestSent(14, declare)
        guard case .closeConnection(let error) = machine.methodReceived(declareOK) else {
            Issue.record("expected a connection error")
            return
        }
        #expect(error.replyCode == 505)
    }

    @Test func mismatchedReplyClosesConnection() {
        var machine = Self.openChannel()
        _ = machine.requestSent(10, Method.Queue.Declare(queue: "q").method)
        guard case .closeConnection(let error) = machine.methodReceived(Method.Queue.BindOK().method) else {
            Issue.record("expected a connection error")
            return
        }
        #expect(error.replyCode == 505)
    }

    @Test func unsolicitedReplyClosesConnection() {
        var machine = Self.openChannel()
        guard case .closeConnection = machine.methodReceived(Method.Queue.BindOK().method) else {
            Issue.record("expected a connection error")
            return
        }
    }

    @Test func exchangeUnbindAndGetReplies() {
        #expect(ChannelStateMachine.isReply(Method.Exchange.UnbindOK().method, to: Method.Exchange.Unbind(destination: "a", source: "b").method))
        #expect(ChannelStateMachine.isReply(Method.Basic.GetEmpty().method, to: Method.Basic.Get(queue: "q").method))
        #expect(!ChannelStateMachine.isReply(Method.Queue.BindOK().method, to: Method.Queue.Declare().method))
    }

    @Test func brokerCloseMidRPC() {
        var machine = Self.openChannel()
        _ = machine.requestSent(10, Method.Queue.Declare(queue: "q", durable: true).method)
        _ = machine.requestSent(11, Method.Queue.Bind(queue: "q", exchange: "x").method)
        let action = machine.methodReceived(Method.Channel.Close(replyCode: 406, replyText: "PRECONDITION_FAILED - inequivalent arg 'durable'", classID: 50, methodID: 10).method)
        guard case .closeChannel(let teardown) = action else {
            Issue.record("expected a teardown, got \(action)")
            return
        }
        #expect(teardown.sendCloseOK)
        #expect(teardown.failedRequests == [10, 11])
        #expect(teardown.error?.code == .preconditionFailed)
        #expect(teardown.error?.replyCode == 406)
        #expect(teardown.error?.classID == 50 && teardown.error?.methodID == 10)
        #expect(machine.isClosed)
        guard case .failRequest(12, let error) = machine.requestSent(12, Method.Queue.Purge(queue: "q").method) else {
            Issue.record("expected the request to fail")
            return
        }
        #expect(error.code == .preconditionFailed)
        #expect(machine.methodReceived(Method.Basic.Ack(deliveryTag: 1).method) == .none)
    }

    @Test func clientClose() {
        var machine = Self.openChannel()
        _ = machine.requestSent(10, Method.Basic.Qos(prefetchCount: 1).method)
        #expect(machine.closeRequested(20) == .sendMethod(Method.Channel.Close(replyCode: 200, replyText: "Goodbye", classID: 0, methodID: 0).method))
        let early = machine.takePendingForClose()
        #expect(early.failedRequests == [10])
        #expect(machine.methodReceived(Method.Basic.QosOK().method) == .none)  // discarded while closing
        guard case .closeChannel(let teardown) = machine.methodReceived(Method.Channel.CloseOK().method) else {
            Issue.record("expected a teardown")
            return
        }
        #expect(teardown.succeededClose == 20)
        #expect(teardown.error == nil)
        #expect(!teardown.sendCloseOK)
    }

    @Test func connectionLossFailsEverything() {
        var machine = Self.openChannel()
        _ = machine.requestSent(10, Method.Confirm.Select().method)
        _ = machine.methodReceived(Method.Confirm.SelectOK().method)
        _ = machine.publishSent()
        _ = machine.requestSent(11, Method.Queue.Declare().method)
        guard case .closeChannel(let teardown) = machine.connectionClosed(.connectionClosed()) else {
            Issue.record("expected a teardown")
            return
        }
        #expect(teardown.failedRequests == [11])
        #expect(teardown.failedConfirms == [1])
        #expect(!teardown.sendCloseOK)
    }

    @Test func contentAssemblyAcrossFrames() {
        var machine = Self.openChannel()
        #expect(machine.methodReceived(Self.deliver.method) == .none)
        #expect(machine.headerReceived(ContentHeader(bodySize: 6)) == .none)
        #expect(machine.bodyReceived(ByteBuffer(string: "abc")) == .none)
        #expect(machine.bodyReceived(ByteBuffer(string: "de")) == .none)
        #expect(
            machine.bodyReceived(ByteBuffer(string: "f"))
                == .deliver(Self.deliver, .init(header: ContentHeader(bodySize: 6), body: ByteBuffer(string: "abcdef")))
        )
    }

    @Test func emptyBodyCompletesOnHeader() {
        var machine = Self.openChannel()
        _ = machine.methodReceived(Self.deliver.method)
        #expect(machine.headerReceived(ContentHeader(bodySize: 0)) == .deliver(Self.deliver, .init(header: ContentHeader(bodySize: 0), body: ByteBuffer())))
    }

    @Test func bodyBeforeHeaderIsAnError() {
        var machine = Self.openChannel()
        _ = machine.methodReceived(Self.deliver.method)
        guard case .closeConnection(let error) = machine.bodyReceived(ByteBuffer(string: "x")) else {
            Issue.record("expected a connection error")
            return
        }
        #expect(error.replyCode == 505)
    }

    @Test func headerWithoutMethodIsAnError() {
        var machine = Self.openChannel()
        guard case .closeConnection = machine.headerReceived(ContentHeader(bodySize: 1)) else {
            Issue.record("expected a connection error")
            return
        }
    }

    @Test func methodInsideContentIsAnError() {
        var machine = Self.openChannel()
        _ = machine.methodReceived(Self.deliver.method)
        _ = machine.headerReceived(ContentHeader(bodySize: 5))
        guard case .closeConnection = machine.methodReceived(Self.deliver.method) else {
            Issue.record("expected a connection error")
            return
        }
    }

    @Test func oversizedBodyIsAnError() {
        var machine = Self.openChannel()
        _ = machine.methodReceived(Self.deliver.method)
        _ = machine.headerReceived(ContentHeader(bodySize: 2))
        guard case .closeConnection = machine.bodyReceived(ByteBuffer(string: "xyz")) else {
            Issue.record("expected a connection error")
            return
        }
    }

    @Test func getOKWithContentAndGetEmpty() {
        var machine = Self.openChannel()
        _ = machine.requestSent(10, Method.Basic.Get(queue: "q").method)
        _ = machine.requestSent(11, Method.Basic.Get(queue: "q").method)
        let getOK = Method.Basic.GetOK(deliveryTag: 1, exchange: "", routingKey: "q", messageCount: 0)
        #expect(machine.methodReceived(getOK.method) == .none)
        #expect(machine.headerReceived(ContentHeader(bodySize: 2)) == .none)
        #expect(machine.bodyReceived(ByteBuffer(string: "hi")) == .succeedRequest(10, .getOK(getOK, .init(header: ContentHeader(bodySize: 2), body: ByteBuffer(string: "hi")))))
        #expect(machine.methodReceived(Method.Basic.GetEmpty().method) == .succeedRequest(11, .method(Method.Basic.GetEmpty().method)))
    }

    @Test func returnedMessage() {
        var machine = Self.openChannel()
        let returned = Method.Basic.Return(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: "nowhere")
        _ = machine.methodReceived(returned.method)
        #expect(machine.headerReceived(ContentHeader(bodySize: 0)) == .forwardReturn(returned, .init(header: ContentHeader(bodySize: 0), body: ByteBuffer())))
    }

    @Test func confirmsMultipleAndOutOfOrder() {
        var machine = Self.openChannel()
        #expect(machine.publishSent() == .success(nil))  // not in confirm mode
        _ = machine.requestSent(10, Method.Confirm.Select().method)
        _ = machine.methodReceived(Method.Confirm.SelectOK().method)
        for expected in 1...6 as ClosedRange<UInt64> {
            #expect(machine.publishSent() == .success(expected))
        }
        #expect(machine.methodReceived(Method.Basic.Ack(deliveryTag: 3).method) == .completeConfirms([3], nacked: false))
        #expect(machine.methodReceived(Method.Basic.Ack(deliveryTag: 4, multiple: true).method) == .completeConfirms([1, 2, 4], nacked: false))
        #expect(machine.methodReceived(Method.Basic.Nack(deliveryTag: 6).method) == .completeConfirms([6], nacked: true))
        #expect(machine.methodReceived(Method.Basic.Ack(deliveryTag: 6).method) == .none)  // already settled
        #expect(machine.methodReceived(Method.Basic.Nack(deliveryTag: 5, multiple: true).method) == .completeConfirms([5], nacked: true))
        #expect(machine.outstandingConfirms.isEmpty)
    }

    @Test func ackOutsideConfirmModeIsAnError() {
        var machine = Self.openChannel()
        guard case .closeConnection = machine.methodReceived(Method.Basic.Ack(deliveryTag: 1).method) else {
            Issue.record("expected a connection error")
            return
        }
    }

    @Test func brokerCancel() {
        var machine = Self.openChannel()
        #expect(machine.methodReceived(Method.Basic.Cancel(consumerTag: "c").method) == .cancelConsumer("c"))
    }
}
