import NIOCore
import NIOPosix

/// A TCP proxy for dead-peer tests: it forwards bytes between the program under test and a
/// target (the broker) and can be told to go silent.
///
/// ```swift
/// let proxy = try await StallingProxy.start(forwardingTo: "127.0.0.1", port: 5672)
/// // connect the client to 127.0.0.1:\(proxy.port) ...
/// await proxy.stall()     // no byte moves either way; every socket stays open
/// await proxy.resume()    // the bytes held back are delivered, forwarding goes on
/// await proxy.closeAll()  // every connection is closed on both sides (the client sees EOF)
/// await proxy.shutdown()  // and the listener too
/// ```
///
/// `stall()` is what a peer that died without a word looks like from the client: the socket is
/// open, writes succeed (until the buffers are full), nothing arrives and nothing is closed. While
/// stalled the proxy reads nothing from either side (so TCP flow control holds the rest back),
/// keeps what it had already read, and does not pass on a close from either side; connections
/// accepted meanwhile are stalled too. Each call takes effect before it returns.
///
/// Everything runs on one event loop, which owns all mutable state; the type is `Sendable`.
final class StallingProxy: Sendable {
    /// The port the proxy listens on, on 127.0.0.1.
    let port: Int
    let targetHost: String
    let targetPort: Int

    private let loop: any EventLoop
    private let listener: any Channel
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var stalled = false
        var isShutDown = false
        var links: [ObjectIdentifier: Link] = [:]
        /// Counts closeAll() calls: a connection accepted before one and connected to the target
        /// after it is closed too.
        var closeAllCount = 0
    }

    /// Listens on 127.0.0.1 on an ephemeral port and forwards every connection to `host:port`.
    static func start(
        forwardingTo host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> StallingProxy {
        let loop = group.next()
        let state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: loop)
        let target = Target(host: host, port: port)
        let listener = try await ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Nothing is read from the client until the target is connected.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                Self.accept(inbound, target: target, state: state, loop: loop)
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let boundPort = listener.localAddress?.port else {
            try? await listener.close()
            throw ProxyError.noLocalPort
        }
        return StallingProxy(port: boundPort, target: target, loop: loop, listener: listener, state: state)
    }

    private init(port: Int, target: Target, loop: any EventLoop, listener: any Channel, state: NIOLoopBoundBox<State>) {
        self.port = port
        self.targetHost = target.host
        self.targetPort = target.port
        self.loop = loop
        self.listener = listener
        self.state = state
    }

    enum ProxyError: Error {
        case noLocalPort
        case shutDown
        case closedWhileConnecting
    }

    private struct Target: Sendable {
        var host: String
        var port: Int
    }

    /// The number of client connections currently forwarded (or held).
    var connectionCount: Int {
        get async {
            let state = self.state
            return (try? await loop.submit { state.value.links.count }.get()) ?? 0
        }
    }

    /// Stops forwarding in both directions, without closing anything.
    func stall() async {
        await onLoop { state in
            state.value.stalled = true
            for link in state.value.links.values { link.stall() }
        }
    }

    /// Forwards again, first the bytes held back while stalled (and a close held back, if any).
    func resume() async {
        await onLoop { state in
            state.value.stalled = false
            for link in state.value.links.values { link.resume() }
        }
    }

    /// Closes every connection, both the client's and the target's side; the proxy still listens.
    /// Bytes held back by `stall()` are dropped. Returns once every socket is closed.
    func closeAll() async {
        let loop = self.loop
        let closed: EventLoopFuture<Void> = await onLoop { state in
            let links = Array(state.value.links.values)
            state.value.links.removeAll()
            state.value.closeAllCount += 1
            return EventLoopFuture.andAllComplete(links.map { $0.close() }, on: loop)
        } ?? loop.makeSucceededVoidFuture()
        try? await closed.get()
    }

    /// Closes every connection and the listener. Calling it again does nothing.
    func shutdown() async {
        let first: Bool = await onLoop { state in
            defer { state.value.isShutDown = true }
            return !state.value.isShutDown
        } ?? false
        guard first else { return }
        try? await listener.close()
        await closeAll()
    }

    /// Runs `body` on the proxy's event loop with its state.
    @discardableResult
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (NIOLoopBoundBox<State>) -> T) async -> T? {
        let state = self.state
        return try? await loop.submit { body(state) }.get()
    }

    // MARK: - Accepting

    /// Connects to the target for a new client connection and glues the two together.
    private static func accept(
        _ inbound: any Channel,
        target: Target,
        state: NIOLoopBoundBox<State>,
        loop: any EventLoop
    ) -> EventLoopFuture<Void> {
        if state.value.isShutDown { return loop.makeFailedFuture(ProxyError.shutDown) }
        let closeAllCount = state.value.closeAllCount
        return ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .flatMapThrowing { outbound in
                if state.value.isShutDown || state.value.closeAllCount != closeAllCount {
                    outbound.close(promise: nil)
                    throw ProxyError.closedWhileConnecting
                }
                let link = Link(client: inbound, target: outbound)
                let id = ObjectIdentifier(link)
                link.onClose = { state.value.links[id] = nil }
                do {
                    try link.install()
                } catch {
                    outbound.close(promise: nil)
                    throw error
                }
                state.value.links[id] = link
                if state.value.stalled { link.stall() }
                link.start()
            }
            .nonisolated()
    }
}

// MARK: - One proxied connection

/// A client connection and its connection to the target, with a forwarding handler on each.
/// Lives on the proxy's event loop only.
private final class Link {
    let client: any Channel
    let target: any Channel
    private let fromClient = ForwardHandler()
    private let fromTarget = ForwardHandler()
    private(set) var stalled = false
    private var closing = false
    /// Set when either side closed while stalled: the other side is closed on `resume()`.
    private var closeHeld = false
    var onClose: (() -> Void)?

    init(client: any Channel, target: any Channel) {
        self.client = client
        self.target = target
    }

    func install() throws {
        fromClient.link = self
        fromTarget.link = self
        fromClient.partner = fromTarget
        fromTarget.partner = fromClient
        try client.pipeline.syncOperations.addHandler(fromClient)
        try target.pipeline.syncOperations.addHandler(fromTarget)
    }

    /// Starts reading both sides: autoRead is on from here, and the handlers gate each read.
    /// (The client's channel is registered, and so starts reading, once the bootstrap's
    /// initializer is done; the target's starts at once.)
    func start() {
        client.setOption(.autoRead, value: true).whenFailure { _ in }
        target.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    func stall() {
        stalled = true
    }

    func resume() {
        guard stalled else { return }
        stalled = false
        fromClient.release()
        fromTarget.release()
        if closeHeld { close().whenComplete { _ in } }
    }

    /// One side's socket closed (EOF, reset or error).
    func sideClosed() {
        if stalled { closeHeld = true } else { close().whenComplete { _ in } }
    }

    /// Closes both sides; the link is forgotten by the proxy.
    @discardableResult
    func close() -> EventLoopFuture<Void> {
        let loop = client.eventLoop
        if !closing {
            closing = true
            fromClient.drop()
            fromTarget.drop()
            onClose?()
            onClose = nil
            client.close(promise: nil)
            target.close(promise: nil)
        }
        return client.closeFuture.and(target.closeFuture).map { _ in () }.hop(to: loop)
    }
}

/// Sits on one channel: passes what it reads to the partner's channel, unless the link is
/// stalled (then it keeps it and stops reading) or the partner cannot take more (then it stops
/// reading until the partner's channel is writable again).
private final class ForwardHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    weak var link: Link?
    weak var partner: ForwardHandler?
    private var context: ChannelHandlerContext?
    /// Bytes read while stalled, delivered on release().
    private var held: [ByteBuffer] = []
    /// A read the pipeline asked for and this handler held back.
    private var readPending = false

    private var stalled: Bool { link?.stalled ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if stalled {
            held.append(bytes)
        } else {
            partner?.send(bytes)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !stalled { partner?.flush() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link?.sideClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or any other failure ends this side; channelInactive follows.
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.readIfAllowed() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if mayRead {
            context.read()
        } else {
            readPending = true
        }
    }

    private var mayRead: Bool {
        !stalled && (partner?.context?.channel.isWritable ?? true)
    }

    /// Writes bytes read on the partner's channel to this handler's channel.
    fileprivate func send(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    fileprivate func flush() {
        context?.flush()
    }

    fileprivate func readIfAllowed() {
        guard readPending, mayRead, let context else { return }
        readPending = false
        context.read()
    }

    /// After a stall: delivers what was held, then reads again.
    fileprivate func release() {
        if !held.isEmpty, let partner {
            for bytes in held { partner.send(bytes) }
            partner.flush()
        }
        held.removeAll()
        readIfAllowed()
    }

    /// The link is closing: what is held is dropped.
    fileprivate func drop() {
        held.removeAll()
        readPending = false
    }
}
