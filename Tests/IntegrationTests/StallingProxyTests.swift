import NIOCore
import NIOPosix
import Testing

/// The dead-peer proxy against the real broker: it forwards the AMQP greeting, goes silent on
/// `stall()` (and delivers what it held on `resume()`), and `closeAll()` ends every connection.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct StallingProxyTests {
    static let protocolHeader: [UInt8] = Array("AMQP".utf8) + [0, 0, 9, 1]

    /// Runs `body` with a proxy to the broker and shuts the proxy down afterwards.
    private func withProxy(_ body: (StallingProxy) async throws -> Void) async throws {
        let url = BrokerEnvironment.amqpURL
        let proxy = try await StallingProxy.start(forwardingTo: url.host ?? "127.0.0.1", port: url.port ?? 5672)
        do {
            try await body(proxy)
        } catch {
            await proxy.shutdown()
            throw error
        }
        await proxy.shutdown()
    }

    @Test func forwardsTheProtocolHeaderAndTheConnectionStart() async throws {
        try await withProxy { proxy in
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }

            try await probe.write(Self.protocolHeader)
            let received = try await probe.wait(for: .seconds(10)) { Self.connectionStart(in: $0.bytes) != nil }
            let payload = try #require(Self.connectionStart(in: received.bytes), "no connection.start within 10 s: \(received.bytes.count) bytes")
            #expect(Array(payload.prefix(4)) == [0, 10, 0, 10], "connection.start")
            #expect(await proxy.connectionCount == 1)
        }
    }

    @Test func staysSilentWhileStalledAndDeliversOnResume() async throws {
        try await withProxy { proxy in
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }
            // The connection is forwarded before the stall: the stall applies to a live link.
            try await waitUntil(.seconds(5)) { await proxy.connectionCount == 1 }

            await proxy.stall()
            try await probe.write(Self.protocolHeader)
            let during = try await probe.wait(for: .seconds(1)) { !$0.bytes.isEmpty || $0.closed }
            #expect(during.bytes.count == 0, "bytes arrived through a stalled proxy")
            #expect(!during.closed, "a stalled proxy closed the connection")

            await proxy.resume()
            let after = try await probe.wait(for: .seconds(10)) { Self.connectionStart(in: $0.bytes) != nil }
            #expect(Self.connectionStart(in: after.bytes) != nil, "the held header was not delivered on resume")
        }
    }

    @Test func aConnectionMadeWhileStalledIsSilentToo() async throws {
        try await withProxy { proxy in
            await proxy.stall()
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }

            try await probe.write(Self.protocolHeader)
            let during = try await probe.wait(for: .seconds(1)) { !$0.bytes.isEmpty || $0.closed }
            #expect(during.bytes.isEmpty && !during.closed)

            await proxy.resume()
            let after = try await probe.wait(for: .seconds(10)) { Self.connectionStart(in: $0.bytes) != nil }
            #expect(Self.connectionStart(in: after.bytes) != nil)
        }
    }

    @Test func closeAllEndsEveryConnectionAndKeepsListening() async throws {
        try await withProxy { proxy in
            let first = try await Probe.connect(port: proxy.port)
            defer { first.close() }
            let second = try await Probe.connect(port: proxy.port)
            defer { second.close() }
            try await first.write(Self.protocolHeader)
            _ = try await first.wait(for: .seconds(10)) { Self.connectionStart(in: $0.bytes) != nil }
            try await waitUntil(.seconds(5)) { await proxy.connectionCount == 2 }

            await proxy.closeAll()
            #expect(try await first.wait(for: .seconds(5)) { $0.closed }.closed, "the client saw no EOF")
            #expect(try await second.wait(for: .seconds(5)) { $0.closed }.closed, "the client saw no EOF")
            #expect(await proxy.connectionCount == 0)

            // A new connection is forwarded as before.
            let third = try await Probe.connect(port: proxy.port)
            defer { third.close() }
            try await third.write(Self.protocolHeader)
            let received = try await third.wait(for: .seconds(10)) { Self.connectionStart(in: $0.bytes) != nil }
            #expect(Self.connectionStart(in: received.bytes) != nil)
        }
    }

    @Test func closeAllWhileStalledClosesToo() async throws {
        try await withProxy { proxy in
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }
            try await waitUntil(.seconds(5)) { await proxy.connectionCount == 1 }
            await proxy.stall()
            await proxy.closeAll()
            #expect(try await probe.wait(for: .seconds(5)) { $0.closed }.closed, "the client saw no EOF")
        }
    }

    @Test func aClosedTargetClosesTheClientSide() async throws {
        // The broker closes a connection that sends a wrong protocol header; the proxy passes the
        // close on to the client.
        try await withProxy { proxy in
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }
            try await probe.write(Array("HTTP/1.1".utf8))
            let received = try await probe.wait(for: .seconds(10)) { $0.closed }
            #expect(received.closed, "the broker's close did not reach the client")
            try await waitUntil(.seconds(5)) { await proxy.connectionCount == 0 }
        }
    }

    @Test func holdsBackWhatTheTargetSendsWhileStalled() async throws {
        // A target that answers 2 s late: the answer is sent while the proxy is stalled, so
        // this checks the target-to-client direction (the tests above check the other one). The
        // delay must outlast the step from "the echo got the ping" to "stalled", which took more
        // than 300 ms on a busy machine.
        let echo = try await DelayedEcho.start(delay: .seconds(2))
        defer { echo.close() }
        let proxy = try await StallingProxy.start(forwardingTo: "127.0.0.1", port: echo.port)
        do {
            let probe = try await Probe.connect(port: proxy.port)
            defer { probe.close() }
            try await probe.write(Array("ping".utf8))
            try await waitUntil(.seconds(5)) { try await echo.bytesReceived() == 4 }
            await proxy.stall()
            let during = try await probe.wait(for: .seconds(1)) { !$0.bytes.isEmpty || $0.closed }
            #expect(during.bytes.isEmpty && !during.closed, "the target's answer got through a stalled proxy")
            await proxy.resume()
            let after = try await probe.wait(for: .seconds(5)) { $0.bytes.count >= 4 }
            #expect(after.bytes == Array("ping".utf8))
        } catch {
            await proxy.shutdown()
            throw error
        }
        await proxy.shutdown()
    }

    @Test func shutdownStopsListening() async throws {
        let url = BrokerEnvironment.amqpURL
        let proxy = try await StallingProxy.start(forwardingTo: url.host ?? "127.0.0.1", port: url.port ?? 5672)
        let port = proxy.port
        await proxy.shutdown()
        await proxy.shutdown()
        await #expect(throws: (any Error).self) {
            let probe = try await Probe.connect(port: port)
            probe.close()
        }
    }

    /// The payload of a connection.start method frame on channel 0 at the start of `bytes`.
    static func connectionStart(in bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 7, bytes[0] == 1, bytes[1] == 0, bytes[2] == 0 else { return nil }
        let size = bytes[3..<7].reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count >= 8 + size, bytes[7 + size] == 0xCE else { return nil }
        let payload = Array(bytes[7..<(7 + size)])
        return payload.starts(with: [0, 10, 0, 10]) ? payload : nil
    }
}

/// Polls `condition` every 10 ms until it holds; fails the test when `limit` passes first.
private func waitUntil(
    _ limit: TimeAmount,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let end = NIODeadline.now() + .nanoseconds(Int64(Double(limit.nanoseconds) * TestPatience.factor))
    while !(try await condition()) {
        if NIODeadline.now() >= end {
            Issue.record("condition not met within \(limit)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A TCP client for these tests that records what arrives, so a test can ask "what came within
/// this time?" without ending the connection (unlike a cancelled read).
private struct Probe: Sendable {
    struct Received: Sendable {
        var bytes: [UInt8] = []
        var closed = false
    }

    let channel: any Channel
    private let received: NIOLoopBoundBox<Received>

    static func connect(port: Int) async throws -> Probe {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let received = NIOLoopBoundBox.makeBoxSendingValue(Received(), eventLoop: loop)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Recorder(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return Probe(channel: channel, received: received)
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// What has arrived so far.
    var snapshot: Received {
        get async throws {
            let received = self.received
            return try await channel.eventLoop.submit { received.value }.get()
        }
    }

    /// Waits until `done` holds for what arrived or `limit` passes; returns what arrived.
    func wait(for limit: TimeAmount, until done: (Received) -> Bool) async throws -> Received {
        let end = NIODeadline.now() + .nanoseconds(Int64(Double(limit.nanoseconds) * TestPatience.factor))
        while true {
            let now = try await snapshot
            if done(now) || NIODeadline.now() >= end { return now }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: NIOLoopBoundBox<Received>

        init(received: NIOLoopBoundBox<Received>) {
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received.value.bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.value.closed = true
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// A TCP server on 127.0.0.1 that sends back what it receives after a delay, and counts it.
private struct DelayedEcho: Sendable {
    let channel: any Channel
    let port: Int
    private let count: NIOLoopBoundBox<Int>

    /// Bytes received over all connections so far.
    func bytesReceived() async throws -> Int {
        let count = self.count
        return try await count.eventLoop.submit { count.value }.get()
    }

    static func start(delay: TimeAmount) async throws -> DelayedEcho {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let count = NIOLoopBoundBox.makeBoxSendingValue(0, eventLoop: loop)
        let channel = try await ServerBootstrap(group: loop, childGroup: loop)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(delay: delay, count: count))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return DelayedEcho(channel: channel, port: channel.localAddress?.port ?? 0, count: count)
    }

    func close() {
        channel.close(promise: nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let delay: TimeAmount
        let count: NIOLoopBoundBox<Int>

        init(delay: TimeAmount, count: NIOLoopBoundBox<Int>) {
            self.delay = delay
            self.count = count
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            count.value += bytes.readableBytes
            let channel = context.channel
            context.eventLoop.scheduleTask(in: delay) {
                channel.writeAndFlush(bytes, promise: nil)
            }
        }
    }
}
