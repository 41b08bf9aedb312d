import NIOCore
import NIOPosix

/// A bare TCP session for tests: write bytes and read until enough has arrived.
///
/// A watchdog closes the socket when the deadline passes, so every read ends: with data,
/// or with `TCPSession.Closed`.
struct TCPSession {
    fileprivate var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    fileprivate let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Bytes received and not yet consumed.
    var received = ByteBuffer()

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the peer closed the connection (or the test deadline passed)" }
    }

    mutating func write(_ bytes: some Sequence<UInt8>) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Reads until `complete` returns a value for the bytes received so far.
    mutating func read<T>(until complete: (inout ByteBuffer) throws -> T?) async throws -> T {
        while true {
            if let value = try complete(&received) { return value }
            guard var chunk = try await inbound.next() else { throw Closed() }
            received.writeBuffer(&chunk)
        }
    }
}

/// Opens a TCP connection, runs `body` on it and closes it; the whole call ends by `deadline`.
func withTCPSession<T: Sendable>(
    host: String,
    port: Int,
    from source: String? = nil,
    deadline: TimeAmount = .seconds(15),
    _ body: (inout TCPSession) async throws -> T
) async throws -> T {
    var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(5))
    if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
    let channel = try await bootstrap
        .connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let socket = channel.channel
    let patient = TimeAmount.nanoseconds(Int64(Double(deadline.nanoseconds) * TestPatience.factor))
    let watchdog = socket.eventLoop.scheduleTask(in: patient) { socket.close(promise: nil) }
    defer { watchdog.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var session = TCPSession(inbound: inbound.makeAsyncIterator(), outbound: outbound)
        return try await body(&session)
    }
}
