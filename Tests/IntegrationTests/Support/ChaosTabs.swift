import AMQPClient
import Foundation
import NIOConcurrencyHelpers
import WarrenCore

/// A browser with `count` tabs on one connection for the chaos drill: it connects to any node,
/// and to the next when its connection goes, logging every tab in again.
final class Browser: Sendable {
    let chat: ChatHarness
    let connector: AMQPConnector
    let tabs: [TabTally]
    let policy: AMQPRecoveryPolicy
    private let stopped = NIOLockedValueBox(false)
    private let current = NIOLockedValueBox<AMQPConnection?>(nil)

    init(chat: ChatHarness, ledger: PostLedger, origin: ContinuousClock.Instant, first: Int, count: Int, policy: AMQPRecoveryPolicy) {
        self.chat = chat
        self.policy = policy
        var amqp = chat.amqp
        amqp.connectionName = "chaos browser \(first)"
        self.connector = AMQPConnector(configuration: amqp, start: first)
        self.tabs = (first..<first + count).map { TabTally(login: "tab\($0)", ledger: ledger, origin: origin) }
    }

    /// Stops: no more logins, and the connection closes (which ends every tab's consumer).
    func stop() async {
        self.stopped.withLockedValue { $0 = true }
        try? await self.current.withLockedValue { $0 }?.close()
    }
    var isStopped: Bool { self.stopped.withLockedValue { $0 } }

    func run() async {
        while !self.isStopped {
            guard
                let connection = try? await self.connector.reconnect(policy: self.policy, waitFirst: false, isStopped: { self.isStopped }).connection
            else { return }
            self.current.withLockedValue { $0 = connection }
            if self.isStopped { try? await connection.close() }
            await withTaskGroup(of: Void.self) { group in
                for tab in self.tabs {
                    group.addTask { await tab.live(on: connection, chat: self.chat, stopped: { self.isStopped }) }
                }
            }
            try? await connection.close()
            self.connector.connectionLost()
        }
    }
}

/// One tab of the chaos drill: when it first got each of the drill's posts (seconds after
/// `origin`), under which of the post's event ids (a bit each, ``PostLedger/idIndex(of:id:)``),
/// how often an event came again, and the longest gap between two new posts.
final class TabTally: Sendable {
    let login: String
    let ledger: PostLedger
    let origin: ContinuousClock.Instant

    private struct State {
        /// When each login was answered, seconds after the origin.
        var loginsAt: [Double] = []
        /// Per post number: seconds after `origin` it first arrived, or -1.
        var firstAt: [Double] = []
        /// Per post number: the event ids it arrived under (bit n: the ledger's id n).
        var idBits: [UInt8] = []
        var repeated = 0
        var lastPostAt: ContinuousClock.Instant?
        var longestGap: Duration = .zero
        /// General's stream: the newest offset taken in, when the first subscription was made
        /// (unix seconds), how many subscriptions were made, and how many consumers ended
        /// while the tab went on (the broker cancelled them, or a read failed).
        var newestOffset: Int64?
        var firstSubscribedAt: UInt64?
        var streamSubscriptions = 0
        var streamCancellations = 0
    }

    private let state = NIOLockedValueBox(State())

    init(login: String, ledger: PostLedger, origin: ContinuousClock.Instant) {
        self.login = login
        self.ledger = ledger
        self.origin = origin
    }

    var signedIn: Bool { self.state.withLockedValue { !$0.loginsAt.isEmpty } }
    var logins: Int { self.state.withLockedValue { $0.loginsAt.count } }
    /// When each login was answered, seconds after the origin.
    var loginsAt: [Double] { self.state.withLockedValue { $0.loginsAt } }
    /// When each post first arrived (by number; -1: never), seconds after the origin.
    var arrivals: [Double] { self.state.withLockedValue { $0.firstAt } }
    var posts: Int { self.state.withLockedValue { $0.idBits.reduce(0) { $0 + ($1 == 0 ? 0 : 1) } } }
    var repeatedDeliveries: Int { self.state.withLockedValue { $0.repeated } }
    var postsUnderTwoIDs: Int { self.state.withLockedValue { $0.idBits.reduce(0) { $0 + ($1.nonzeroBitCount > 1 ? 1 : 0) } } }
    var longestGap: Duration { self.state.withLockedValue { $0.longestGap } }
    /// Subscriptions to general's stream made (0 when general comes through the tab queue).
    var streamSubscriptions: Int { self.state.withLockedValue { $0.streamSubscriptions } }
    /// Stream consumers that ended while the tab went on (each followed by a subscription again,
    /// or by a new round of subscribe and log in).
    var streamCancellations: Int { self.state.withLockedValue { $0.streamCancellations } }
    /// Whether post `number` arrived.
    func has(_ number: Int) -> Bool { self.state.withLockedValue { number < $0.idBits.count && $0.idBits[number] != 0 } }
    /// When post `number` first arrived (seconds after the origin), or nil.
    func firstAt(_ number: Int) -> Double? {
        self.state.withLockedValue { number < $0.firstAt.count && $0.firstAt[number] >= 0 ? $0.firstAt[number] : nil }
    }

    /// Logs in and reads the tab queue on `connection`; when the queue goes (its node did), logs
    /// in again after a pause; returns when the connection is gone.
    ///
    /// With general from its stream (`chat.configuration.generalStream`), as the page does: the
    /// tab subscribes to the stream first (at `next` the first time, afterwards at the offset
    /// after the newest it saw), on the channel of its login request, and only then logs in; when
    /// its queue goes, the channel is closed (ending the stream's consumer too) and it starts
    /// again, subscribe then log in, on whichever node its browser is connected to now. A stream
    /// consumer the broker cancels while the channel lives (the member it read went) is
    /// subscribed again at once from the newest offset + 1 (``readStream(_:on:from:stopped:)``);
    /// when that fails, the channel is closed, so the tab starts again rather than go on without
    /// general. Deliveries from the stream and from the tab queue both go through
    /// ``received(_:)``, which drops what the tab already had by event id.
    func live(on connection: AMQPConnection, chat: ChatHarness, stopped: @escaping @Sendable () -> Bool) async {
        let session = ChatHarness.randomSession()
        let stream = chat.configuration.generalStream ? chat.topology.generalStream : nil
        while connection.isActive && !stopped() {
            var opened: AMQPChannel?
            var reading: Task<Void, Never>?
            do {
                let channel = try await connection.openChannel()
                opened = channel
                if let stream {
                    let start = self.streamStart()
                    let subscription = try await withDeadline(.seconds(20), "a subscription to \(stream) at \(start)") {
                        try await StreamSubscription.subscribe(stream, on: channel, from: start)
                    }
                    self.state.withLockedValue { $0.streamSubscriptions += 1 }
                    reading = Task { await self.readStream(stream, on: channel, from: subscription, stopped: stopped) }
                }
                let reply = try await withDeadline(.seconds(20), "a login reply") {
                    try await chat.request(LoginRequest(action: .login, login: self.login, session: session, resume: true), on: channel)
                }
                guard reply.ok, let queue = reply.queue else { throw TestFailure("login refused: \(reply.error ?? "")") }
                let consumer = try await channel.consume(queue: queue, noAck: true)
                let at = (ContinuousClock.now - self.origin).inSeconds
                self.state.withLockedValue { $0.loginsAt.append(at) }
                for try await delivery in consumer {
                    guard let message = try? TabMessage.decode(delivery.body.readableBytesView) else { continue }
                    for event in message.events where event.kind == .message { self.received(event) }
                }
            } catch {
                // The queue's node, or the connection, went: try again shortly.
            }
            // Closing the channel ends the stream's consumer too: the next round subscribes again.
            try? await opened?.close()
            await reading?.value
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Where the tab's next subscription to general's stream starts: after the newest offset it
    /// saw; before it saw any, `next` the first time and afterwards (a reconnect before anything
    /// came) a minute before that first subscription, as the page does (the overlap is dropped
    /// by id).
    private func streamStart() -> StreamStart {
        self.state.withLockedValue { state in
            if let newest = state.newestOffset { return .offset(newest + 1) }
            if let since = state.firstSubscribedAt { return .timestamp(since - 60) }
            state.firstSubscribedAt = UInt64(Date().timeIntervalSince1970)
            return .next
        }
    }

    /// Reads general's stream from `first` until the channel closes; when the broker cancels the
    /// consumer (or the read fails) while the tab goes on, subscribes again on `channel` from the
    /// newest offset + 1. A subscription that fails closes the channel, which ends the tab's
    /// queue consumer too: ``live(on:chat:stopped:)`` then starts again, stream first.
    private func readStream(_ stream: String, on channel: AMQPChannel, from first: StreamSubscription, stopped: @escaping @Sendable () -> Bool) async {
        var subscription = first
        while true {
            do {
                try await subscription.read { events, offset in self.streamed(events ?? [], offset: offset) }
                return  // ended cleanly: the tab closed its channel
            } catch {
                // The connection went (the browser connects again, and the tab starts over).
                if stopped() || !channel.connection.isActive { return }
                self.state.withLockedValue { $0.streamCancellations += 1 }
            }
            let start = self.streamStart()
            do {
                subscription = try await withDeadline(.seconds(20), "a subscription to \(stream) at \(start)") {
                    try await StreamSubscription.subscribe(stream, on: channel, from: start)
                }
                self.state.withLockedValue { $0.streamSubscriptions += 1 }
            } catch {
                try? await channel.close()
                return
            }
        }
    }

    /// A delivery from general's stream: its offset is kept (to resume after it), its posts
    /// counted like the tab queue's.
    private func streamed(_ events: [RoomEvent], offset: Int64?) {
        if let offset {
            self.state.withLockedValue { state in state.newestOffset = max(state.newestOffset ?? offset, offset) }
        }
        for event in events where event.kind == .message { self.received(event) }
    }

    private func received(_ event: RoomEvent) {
        let now = ContinuousClock.now
        let number = event.clientId.flatMap(self.ledger.number(of:))
        let bit = number.map { UInt8(1) << min(self.ledger.idIndex(of: $0, id: event.id), 7) }
        self.state.withLockedValue { state in
            if let number, let bit {
                if number >= state.idBits.count {
                    let more = number + 1 - state.idBits.count + 256
                    state.idBits.append(contentsOf: repeatElement(0, count: more))
                    state.firstAt.append(contentsOf: repeatElement(-1, count: more))
                }
                if state.idBits[number] & bit != 0 {
                    state.repeated += 1
                    return
                }
                let new = state.idBits[number] == 0
                state.idBits[number] |= bit
                guard new else { return }
                state.firstAt[number] = (now - self.origin).inSeconds
            }
            // Other posts (the cron's) count for the gaps too.
            if let last = state.lastPostAt { state.longestGap = max(state.longestGap, now - last) }
            state.lastPostAt = now
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
