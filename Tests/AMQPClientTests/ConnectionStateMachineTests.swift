import AMQPProtocol
import NIOCore
import Testing

@testable import AMQPClient

@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    static let second: UInt64 = 1_000_000_000

    static func configuration(heartbeat: UInt16 = 60, frameMax: UInt32 = 131_072, channelMax: UInt16 = 2047) -> ConnectionStateMachine.Configuration {
        .init(user: "u", password: "p", virtualHost: "v", heartbeat: heartbeat, frameMax: frameMax, channelMax: channelMax, connectionName: "test")
    }

    static let start = Method.Connection.Start(serverProperties: [:], mechanisms: ByteBuffer(string: "AMQPLAIN PLAIN"))

    /// Runs the handshake up to open-ok with the given server tune.
    static func openMachine(_ configuration: ConnectionStateMachine.Configuration = configuration(), tune: Method.Connection.Tune = .init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(configuration: configuration)
        _ = machine.connected(now: 0)
        _ = machine.startReceived(start)
        _ = machine.tuneReceived(tune)
        _ = machine.openOKReceived()
        return machine
    }

    @Test func handshake() throws {
        var machine = ConnectionStateMachine(configuration: Self.configuration())
        #expect(machine.connected(now: 0) == .sendProtocolHeader)
        guard case .sendStartOK(let startOK) = machine.startReceived(Self.start) else {
            Issue.record("expected start-ok")
            return
        }
        #expect(startOK.mechanism == "PLAIN")
        #expect(Array(startOK.response.readableBytesView) == [0, UInt8(ascii: "u"), 0, UInt8(ascii: "p")])
        guard case .table(let capabilities) = startOK.clientProperties["capabilities"] else {
            Issue.record("no capabilities")
            return
        }
        for name in ["publisher_confirms", "consumer_cancel_notify", "basic.nack", "connection.blocked", "authentication_failure_close",
                     "exchange_exchange_bindings", "per_consumer_qos", "connection_name"] {
            #expect(capabilities[name] == .bool(true), "\(name)")
        }
        #expect(startOK.clientProperties["connection_name"]?.stringValue == "test")
        let negotiated = ConnectionStateMachine.Negotiated(frameMax: 131_072, channelMax: 2047, heartbeat: 60)
        #expect(
            machine.tuneReceived(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60))
                == .sendTuneOKAndOpen(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60), .init(virtualHost: "v"), negotiated)
        )
        #expect(machine.openOKReceived() == .fireConnected(negotiated))
        #expect(machine.isOpen)
    }

    @Test func noPlainMechanismFails() {
        var machine = ConnectionStateMachine(configuration: Self.configuration())
        _ = machine.connected(now: 0)
        guard case .closeSocket(let error?) = machine.startReceived(.init(serverProperties: [:], mechanisms: ByteBuffer(string: "EXTERNAL"))) else {
            Issue.record("expected a close")
            return
        }
        #expect(error.code == .unsupported)
    }

    struct TuneCase: Sendable, CustomTestStringConvertible {
        var client: (heartbeat: UInt16, frameMax: UInt32, channelMax: UInt16)
        var server: (heartbeat: UInt16, frameMax: UInt32, channelMax: UInt16)
        var expected: (heartbeat: UInt16, frameMax: UInt32, channelMax: UInt16)
        var testDescription: String { "client \(client) server \(server)" }
    }

    @Test(arguments: [
        TuneCase(client: (60, 131_072, 2047), server: (60, 131_072, 2047), expected: (60, 131_072, 2047)),
        TuneCase(client: (10, 8192, 64), server: (60, 131_072, 2047), expected: (10, 8192, 64)),
        TuneCase(client: (120, 1_000_000, 4000), server: (60, 131_072, 2047), expected: (60, 131_072, 2047)),
        TuneCase(client: (0, 0, 0), server: (60, 131_072, 2047), expected: (60, 131_072, 2047)),
        TuneCase(client: (30, 65536, 10), server: (0, 0, 0), expected: (30, 65536, 10)),
        TuneCase(client: (0, 0, 0), server: (0, 0, 0), expected: (0, 0, 65535)),
    ])
    func tuneNegotiation(_ tuneCase: TuneCase) {
        var machine = ConnectionStateMachine(
            configuration: Self.configuration(heartbeat: tuneCase.client.heartbeat, frameMax: tuneCase.client.frameMax, channelMax: tuneCase.client.channelMax)
        )
        _ = machine.connected(now: 0)
        _ = machine.startReceived(Self.start)
        let action = machine.tuneReceived(.init(channelMax: tuneCase.server.channelMax, frameMax: tuneCase.server.frameMax, heartbeat: tuneCase.server.heartbeat))
        guard case .sendTuneOKAndOpen(let tuneOK, _, let negotiated) = action else {
            Issue.record("expected tune-ok, got \(action)")
            return
        }
        #expect(negotiated.heartbeat == tuneCase.expected.heartbeat)
        #expect(negotiated.frameMax == tuneCase.expected.frameMax)
        #expect(negotiated.channelMax == tuneCase.expected.channelMax)
        #expect(tuneOK.heartbeat == tuneCase.expected.heartbeat)
        #expect(tuneOK.frameMax == tuneCase.expected.frameMax)
    }

    @Test func frameMaxBelow4096Refused() {
        var machine = ConnectionStateMachine(configuration: Self.configuration(frameMax: 0))
        _ = machine.connected(now: 0)
        _ = machine.startReceived(Self.start)
        guard case .closeSocket(let error?) = machine.tuneReceived(.init(channelMax: 0, frameMax: 2048, heartbeat: 0)) else {
            Issue.record("expected the connection to fail")
            return
        }
        #expect(error.code == .protocolError)
        #expect(error.message.contains("4096"))
    }

    @Test func brokerCloseDuringHandshakeIsAccessRefused() {
        var machine = ConnectionStateMachine(configuration: Self.configuration())
        _ = machine.connected(now: 0)
        _ = machine.startReceived(Self.start)
        let action = machine.closeReceived(.init(replyCode: 403, replyText: "ACCESS_REFUSED - Login was refused", classID: 10, methodID: 11))
        guard case .sendCloseOKAndCloseSocket(let error) = action else {
            Issue.record("expected close-ok, got \(action)")
            return
        }
        #expect(error.code == .accessRefused)
        #expect(error.replyCode == 403)
        #expect(machine.channelInactive() == .fireClosed(error))
    }

    @Test func vhostRefusal530() {
        var machine = ConnectionStateMachine(configuration: Self.configuration())
        _ = machine.connected(now: 0)
        _ = machine.startReceived(Self.start)
        _ = machine.tuneReceived(.init(channelMax: 0, frameMax: 0, heartbeat: 0))
        guard case .sendCloseOKAndCloseSocket(let error) = machine.closeReceived(.init(replyCode: 530, replyText: "NOT_ALLOWED", classID: 10, methodID: 40)) else {
            Issue.record("expected close-ok")
            return
        }
        #expect(error.code == .notAllowed)
    }

    @Test func socketClosedDuringHandshake() {
        var machine = ConnectionStateMachine(configuration: Self.configuration())
        _ = machine.connected(now: 0)
        guard case .fireClosed(let error?) = machine.channelInactive() else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == .connectionClosed)
    }

    @Test func clientClose() {
        var machine = Self.openMachine()
        guard case .sendClose(let close, nil) = machine.closeRequested() else {
            Issue.record("expected connection.close")
            return
        }
        #expect(close.replyCode == 200)
        #expect(machine.closeRequested() == .none)
        #expect(machine.closeOKReceived() == .closeSocket(nil))
        #expect(machine.channelInactive() == .fireClosed(nil))
        #expect(machine.isClosed)
    }

    @Test func closeCrossing() {
        var machine = Self.openMachine()
        _ = machine.closeRequested()
        guard case .sendCloseOKAndCloseSocket = machine.closeReceived(.init(replyCode: 320, replyText: "CONNECTION_FORCED", classID: 0, methodID: 0)) else {
            Issue.record("expected close-ok")
            return
        }
    }

    @Test func blockedUnblocked() {
        var machine = Self.openMachine()
        #expect(machine.blockedReceived(.init(reason: "low on memory")) == .fireBlocked("low on memory"))
        #expect(machine.unblockedReceived() == .fireUnblocked)
    }

    @Test func heartbeatSentAfterAnIdleInterval() {
        var machine = Self.openMachine(tune: .init(channelMax: 0, frameMax: 0, heartbeat: 10))
        #expect(machine.heartbeatTimerPeriod == 5 * Self.second)
        machine.bytesReceived(now: 4 * Self.second)
        #expect(machine.heartbeatTimerFired(now: 5 * Self.second) == .none)
        machine.bytesReceived(now: 9 * Self.second)
        #expect(machine.heartbeatTimerFired(now: 10 * Self.second) == .sendHeartbeat)
        machine.bytesWritten(now: 10 * Self.second)
        machine.bytesReceived(now: 14 * Self.second)
        #expect(machine.heartbeatTimerFired(now: 15 * Self.second) == .none)
    }

    @Test func deadPeerAfterTwoSilentIntervals() {
        var machine = Self.openMachine(tune: .init(channelMax: 0, frameMax: 0, heartbeat: 10))
        machine.bytesReceived(now: 1 * Self.second)
        machine.bytesWritten(now: 19 * Self.second)
        #expect(machine.heartbeatTimerFired(now: 20 * Self.second) == .none)
        // A dead peer will not answer connection.close: the socket is closed at once.
        guard case .closeSocket(let error?) = machine.heartbeatTimerFired(now: 21 * Self.second) else {
            Issue.record("expected the peer declared dead")
            return
        }
        #expect(error.code == .heartbeatTimeout)
        #expect(error.replyCode == 320)
        #expect(machine.channelInactive() == .fireClosed(error))
    }

    @Test func heartbeatsOff() {
        var machine = Self.openMachine(Self.configuration(heartbeat: 0), tune: .init(channelMax: 0, frameMax: 0, heartbeat: 0))
        #expect(machine.heartbeatTimerPeriod == nil)
        #expect(machine.heartbeatTimerFired(now: 1000 * Self.second) == .none)
    }

    @Test func protocolErrorWhileOpenSendsClose() {
        var machine = Self.openMachine()
        let error = AMQPError(code: .protocolError, replyCode: 505, message: "bad frame")
        guard case .sendClose(let close, error?) = machine.errorHappened(error) else {
            Issue.record("expected connection.close")
            return
        }
        #expect(close.replyCode == 505)
    }

    @Test func channelIDAllocation() {
        var allocator = ChannelIDAllocator(channelMax: 3)
        #expect(allocator.allocate() == 1)
        #expect(allocator.allocate() == 2)
        #expect(allocator.allocate() == 3)
        #expect(allocator.allocate() == nil)
        allocator.release(2)
        allocator.release(1)
        #expect(allocator.allocate() == 1)
        #expect(allocator.allocate() == 2)
        allocator.release(3)
        #expect(allocator.allocate() == 3)
        #expect(allocator.inUse == 3)
        allocator.release(3)
        allocator.release(3)
        #expect(allocator.inUse == 2)
    }
}
