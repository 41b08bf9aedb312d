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
    /// Whether post `number` arrived.
    func has(_ number: Int) -> Bool { self.state.withLockedValue { number < $0.idBits.count && $0.idBits[number] != 0 } }
    /// When post `number` first arrived (seconds after the origin), or nil.
    func firstAt(_ number: Int) -> Double? {
        self.state.withLockedValue { number < $0.firstAt.count && $0.firstAt[number] >= 0 ? $0.firstAt[number] : nil }
    }

    /// Logs in and reads the tab queue on `connection`; when the queue goes (its node did), logs
    /// in again after a pause; returns when the connection is gone.
    func live(on connection: AMQPConnection, chat: ChatHarness, stopped: @escaping @Sendable () -> Bool) async {
        let session = ChatHarness.randomSession()
        while connection.isActive && !stopped() {
            do {
                let channel = try await connection.openChannel()
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
                try? await channel.close()
            } catch {
                // The queue's node, or the connection, went: try again shortly.
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
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
