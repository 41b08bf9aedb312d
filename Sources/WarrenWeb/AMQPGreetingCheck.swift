import Logging
import NIOCore
import NIOPosix

/// Checks that an AMQP 0-9-1 broker answers at `endpoint`, not merely that its port is open.
///
/// Each check opens a TCP connection, sends the protocol header `AMQP 0 0 9 1` and waits for
/// the broker's first frame, which must be `connection.start` on channel 0; then it closes the
/// socket. Anything else (a refused or silent port, another protocol, another AMQP version)
/// is an unreachable broker with a reason. The whole exchange is bounded by `timeout`.
/// - Parameters:
///   - endpoint: the broker's AMQP host and port.
///   - timeout: how long connecting and waiting for the answer may take together.
///   - logger: where a failed check is reported, at debug level.
/// - Returns: a check for ``buildApplication(configuration:brokerReachable:logger:)``.
public func amqpGreetingCheck(
    to endpoint: WebConfiguration.BrokerEndpoint,
    timeout: Duration = .seconds(1),
    logger: Logger = Logger(label: "warren.web.health")
) -> @Sendable () async -> BrokerHealth {
    {
        let health = await probeAMQPGreeting(host: endpoint.host, port: endpoint.port, timeout: timeout)
        if let reason = health.reason {
            logger.debug("Broker not reachable", metadata: ["host": "\(endpoint.host)", "port": "\(endpoint.port)", "reason": "\(reason)"])
        }
        return health
    }
}

/// The check for a broker of several nodes: reachable when any node answers (tried in turn),
/// else unreachable with every node's reason.
public func amqpGreetingCheck(
    toAny endpoints: [WebConfiguration.BrokerEndpoint],
    timeout: Duration = .seconds(1),
    logger: Logger = Logger(label: "warren.web.health")
) -> @Sendable () async -> BrokerHealth {
    let checks = endpoints.map { amqpGreetingCheck(to: $0, timeout: timeout, logger: logger) }
    guard checks.count > 1 else { return checks[0] }
    return {
        var reasons: [String] = []
        for check in checks {
            let health = await check()
            if health.reachable { return health }
            reasons.append(health.reason ?? "unreachable")
        }
        return .unreachable(reasons.joined(separator: "; "))
    }
}

/// One greeting exchange; never throws, every failure is an unreachable answer.
func probeAMQPGreeting(host: String, port: Int, timeout: Duration) async -> BrokerHealth {
    let address = "\(host):\(port)"
    let milliseconds = max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
    let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
    // Every completion below runs on `eventLoop`; the first one wins, later ones are ignored.
    let answer = eventLoop.makePromise(of: BrokerHealth.self)
    let deadline = eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
        answer.succeed(.unreachable("no AMQP answer from \(address) within \(milliseconds) ms"))
    }
    ClientBootstrap(group: eventLoop)
        .connectTimeout(.milliseconds(milliseconds))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(AMQPGreetingHandler(address: address, answer: answer))
            }
        }
        .connect(host: host, port: port)
        .whenComplete { result in
            switch result {
            case .success(let channel):
                answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                answer.succeed(.unreachable("cannot connect to \(address): \(error)"))
            }
        }
    let health = (try? await answer.futureResult.get()) ?? .unreachable("the check of \(address) failed")
    deadline.cancel()
    return health
}

/// Sends the AMQP 0-9-1 protocol header and judges the first bytes that come back.
final class AMQPGreetingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// `AMQP` 0 0 9 1.
    static let protocolHeader: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]
    /// Frame type (1 = method), channel (0), payload size (4 octets), class and method ids.
    static let greetingLength = 11

    private let address: String
    private let answer: EventLoopPromise<BrokerHealth>
    private var received: [UInt8] = []

    init(address: String, answer: EventLoopPromise<BrokerHealth>) {
        self.address = address
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        let header = context.channel.allocator.buffer(bytes: Self.protocolHeader)
        context.writeAndFlush(Self.wrapOutboundOut(header), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        let wanted = Self.greetingLength - self.received.count
        guard wanted > 0, let bytes = buffer.readBytes(length: min(wanted, buffer.readableBytes)) else { return }
        self.received += bytes
        let isProtocolHeader = self.received.count >= 8 && self.received.starts(with: Array("AMQP".utf8))
        if self.received.count == Self.greetingLength || isProtocolHeader {
            self.answer.succeed(Self.judge(self.received, from: self.address))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let heard = self.received.isEmpty ? "without answering" : "after \(self.received.count) bytes"
        self.answer.succeed(.unreachable("\(self.address) closed the connection \(heard) the AMQP protocol header"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.answer.succeed(.unreachable("connection to \(self.address) failed: \(error)"))
        context.close(promise: nil)
    }

    /// What the first bytes from the peer say about it.
    static func judge(_ bytes: [UInt8], from address: String) -> BrokerHealth {
        if bytes.starts(with: Array("AMQP".utf8)), bytes.count >= 8 {
            let version = bytes[4..<8].map(String.init).joined(separator: " ")
            return .unreachable("\(address) speaks another AMQP version (it answered with protocol header AMQP \(version))")
        }
        let isConnectionStart = bytes.count == greetingLength
            && bytes[0] == 1 && bytes[1] == 0 && bytes[2] == 0 // a method frame on channel 0
            && bytes[7] == 0 && bytes[8] == 10 && bytes[9] == 0 && bytes[10] == 10 // connection.start
        if isConnectionStart { return .reachable }
        let shown = bytes.prefix(8).map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
        return .unreachable("\(address) answered, but not with AMQP connection.start (first bytes: \(shown))")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: "0", count: width - self.count) + self
    }
}
