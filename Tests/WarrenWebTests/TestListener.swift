import NIOCore
import NIOPosix

/// A TCP listener on 127.0.0.1 that greets every connection with fixed bytes, or stays silent:
/// the peers a broker check must tell apart from a broker.
struct TestListener {
    let channel: any Channel

    /// The port it listens on.
    var port: Int { self.channel.localAddress?.port ?? 0 }

    /// Starts listening on a free port.
    /// - Parameter greeting: written to each connection once it opens; nil sends nothing.
    static func start(greeting: [UInt8]?) async throws -> TestListener {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Greeter(greeting: greeting))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestListener(channel: channel)
    }

    /// A port nothing listens on: bound, then closed again.
    static func closedPort() async throws -> Int {
        let listener = try await start(greeting: nil)
        let port = listener.port
        try await listener.close()
        return port
    }

    func close() async throws {
        try await self.channel.close()
    }

    /// The first 11 bytes a RabbitMQ sends after the AMQP 0-9-1 header: a method frame on
    /// channel 0 whose method is connection.start (class 10, method 10). The rest of the
    /// frame does not matter to the check.
    static let connectionStartPrefix: [UInt8] = [1, 0, 0, 0, 0, 1, 0, 0, 10, 0, 10]

    private final class Greeter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let greeting: [UInt8]?

        init(greeting: [UInt8]?) { self.greeting = greeting }

        func channelActive(context: ChannelHandlerContext) {
            if let greeting {
                context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: greeting)), promise: nil)
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // whatever the client says
    }
}
