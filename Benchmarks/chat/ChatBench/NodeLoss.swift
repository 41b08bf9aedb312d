import AMQPClient
import AMQPProtocol
import BenchStats
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import WarrenCore

/// What losing one node of a cluster costs the chat (`--node-loss`): the shared queues are
/// declared on that node (so it leads the inbox, and its loss forces an election), the login
/// service and the poster are on the first node, the tabs' connections go round the nodes.
/// Posts go through the login path at a steady rate, each with a publisher confirm (a nacked or
/// failed one is published again on a fresh channel, as Warren's publishers do); after `after`
/// seconds `command` takes the node away. Measured on the tabs whose connections were on
/// other nodes: how long until a post sent after the loss reached every one of them, the
/// longest time no post completed, how long the poster waited for a confirm at worst, and
/// confirmed posts that never arrived.
public struct NodeLossOptions: Sendable {
    /// The shell command that takes the node away, e.g. `scripts/broker cluster kill 2`.
    public var command: String
    /// Which node of the URL list (1-based, not the first) the command takes away.
    public var node: Int
    /// Posts per second through the login path.
    public var postsPerSecond: Double = 20
    /// How long posts are sent.
    public var seconds: Double = 30
    /// When the command runs, seconds after the first post.
    public var after: Double = 10

    public init(command: String, node: Int) {
        self.command = command
        self.node = node
    }
}

/// What one node's loss cost (``NodeLossOptions``), for a JSON line and a summary.
public struct NodeLossResult: Codable, Sendable {
    public var kind = "node-loss"
    public var tabs: Int
    public var survivingTabs: Int
    public var node: Int
    public var postsPerSecond: Double
    public var posts: Int
    public var confirmed: Int
    /// Publishes made again after a nack or a failure.
    public var republished: Int
    /// From the loss (the command's start) until the first post sent after it reached every
    /// surviving tab; nil if none did.
    public var flowAgainSeconds: Double?
    /// The longest time between two posts completing (in every surviving tab).
    public var longestGapSeconds: Double
    /// The longest the poster waited for a confirm.
    public var longestConfirmSeconds: Double
    /// Confirmed posts that did not reach every surviving tab.
    public var lost: Int
    /// Post-to-last-tab latency at p50 before the loss and from 5 s after posts flowed again.
    public var p50BeforeMs: Double?
    public var p50AfterMs: Double?
    public var error: String?

    /// One line for people.
    public var summary: String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.0f ms", $0) } ?? "-" }
        let flow = self.flowAgainSeconds.map { String(format: "%.1f s", $0) } ?? "never"
        return "node loss (node \(self.node), leader of the shared queues; \(self.survivingTabs) of \(self.tabs) tabs on other nodes, "
            + String(format: "%.0f", self.postsPerSecond) + " posts/s): posts reached every surviving tab again \(flow) after the loss; "
            + String(format: "longest gap %.1f s, longest wait for a confirm %.1f s; ", self.longestGapSeconds, self.longestConfirmSeconds)
            + "\(self.lost) of \(self.confirmed) confirmed posts lost, \(self.republished) published again; "
            + "p50 to the last tab \(ms(self.p50BeforeMs)) before, \(ms(self.p50AfterMs)) after"
            + (self.error.map { "; error: \($0)" } ?? "")
    }
}

/// Per post: when it was sent, confirmed and completed (in every surviving tab).
final class NodeLossTracker: DeliveryCounting {
    private struct State {
        var sentAt: [UInt64]
        var confirmedAt: [UInt64]
        var completedAt: [UInt64]
        var remaining: [Int32]
        var seen: [Bool]
        var republished = 0
    }

    let posts: Int
    let survivors: [Bool]
    private let state: NIOLockedValueBox<State>

    init(posts: Int, survivors: [Bool]) {
        self.posts = posts
        self.survivors = survivors
        let count = Int32(survivors.filter { $0 }.count)
        self.state = NIOLockedValueBox(
            State(
                sentAt: Array(repeating: 0, count: posts), confirmedAt: Array(repeating: 0, count: posts),
                completedAt: Array(repeating: 0, count: posts), remaining: Array(repeating: count, count: posts),
                seen: Array(repeating: false, count: posts * survivors.count)
            )
        )
    }

    func sending(_ seq: Int, at now: UInt64) { self.state.withLockedValue { $0.sentAt[seq] = now } }
    func confirmed(_ seq: Int, at now: UInt64) { self.state.withLockedValue { $0.confirmedAt[seq] = now } }
    func republishing() { self.state.withLockedValue { $0.republished += 1 } }

    func delivered(_ seq: Int, tab: Int, at now: UInt64) {
        guard seq >= 0, seq < self.posts, tab >= 0, tab < self.survivors.count, self.survivors[tab] else { return }
        self.state.withLockedValue { state in
            let slot = seq * self.survivors.count + tab
            guard state.sentAt[seq] != 0, !state.seen[slot] else { return }
            state.seen[slot] = true
            state.remaining[seq] -= 1
            if state.remaining[seq] == 0 { state.completedAt[seq] = now }
        }
    }

    func stray() {}

    /// Whether every confirmed post reached every surviving tab.
    var confirmedComplete: Bool {
        self.state.withLockedValue { state in state.confirmedAt.indices.allSatisfy { state.confirmedAt[$0] == 0 || state.completedAt[$0] != 0 } }
    }

    func result(tabs: Int, node: Int, rate: Double, lossAt: UInt64) -> NodeLossResult {
        self.state.withLockedValue { state in
            let sent = state.sentAt.indices.filter { state.sentAt[$0] != 0 }
            let confirmed = sent.filter { state.confirmedAt[$0] != 0 }
            let seconds = { (nanoseconds: UInt64) in Double(nanoseconds) / 1e9 }
            let completions = sent.compactMap { state.completedAt[$0] == 0 ? nil : state.completedAt[$0] }.sorted()
            let longestGap = zip(completions, completions.dropFirst()).map { seconds($1 - $0) }.max() ?? 0
            let afterLoss = sent.filter { state.sentAt[$0] >= lossAt && state.completedAt[$0] != 0 }
            let flowAgain = afterLoss.map { state.completedAt[$0] }.min().map { seconds($0 - lossAt) }
            let longestConfirm = confirmed.map { seconds(state.confirmedAt[$0] - state.sentAt[$0]) }.max() ?? 0
            func p50(_ posts: [Int]) -> Double? {
                Percentile.of(posts.filter { state.completedAt[$0] != 0 }.map { seconds(state.completedAt[$0] - state.sentAt[$0]) * 1000 }.sorted(), 0.5)
            }
            let settled = flowAgain.map { lossAt + UInt64(($0 + 5) * 1e9) }
            return NodeLossResult(
                tabs: tabs, survivingTabs: self.survivors.filter { $0 }.count, node: node, postsPerSecond: rate, posts: sent.count,
                confirmed: confirmed.count, republished: state.republished, flowAgainSeconds: flowAgain, longestGapSeconds: longestGap,
                longestConfirmSeconds: longestConfirm, lost: confirmed.filter { state.completedAt[$0] == 0 }.count,
                p50BeforeMs: p50(sent.filter { state.sentAt[$0] < lossAt }),
                p50AfterMs: settled.flatMap { from in p50(sent.filter { state.sentAt[$0] >= from }) }
            )
        }
    }
}

extension ChatBench {
    /// The phase number of the node-loss posts' client ids.
    static let nodeLossPhase = 9_999

    /// Runs ``NodeLossOptions`` on `chat` (whose shared queues were declared on the node to lose).
    func nodeLoss(_ chat: Chat, _ loss: NodeLossOptions) async throws -> NodeLossResult {
        let tabs = chat.tabs.tabs
        let endpoints = chat.endpoints
        let survivors = tabs.map { $0.endpoint != loss.node - 1 }
        let posts = Int(loss.postsPerSecond * loss.seconds)
        let tracker = NodeLossTracker(posts: posts, survivors: survivors)
        chat.router.start(phase: Self.nodeLossPhase, tracker: tracker)
        defer { chat.router.stop() }
        self.logger.notice("node loss", metadata: [
            "node": "\(loss.node) (\(endpoints[loss.node - 1]))", "tabs": "\(tabs.count)", "surviving": "\(survivors.filter { $0 }.count)",
            "posts": "\(posts)", "command": "\(loss.command)",
        ])
        let channel = ConfirmChannel(connection: chat.admin)
        let properties = BasicProperties(contentType: "application/json", deliveryMode: BasicProperties.persistentDeliveryMode)
        let start = monotonicNanoseconds()
        let lossAt = NIOLockedValueBox<UInt64>(0)
        var error: String?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(loss.after * 1000)))
                    lossAt.withLockedValue { $0 = monotonicNanoseconds() }
                    try await Self.run(loss.command, within: 120)
                }
                for seq in 0..<posts {
                    let due = start + UInt64(Double(seq) / loss.postsPerSecond * 1e9)
                    let now = monotonicNanoseconds()
                    if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                    let tab = tabs[seq % tabs.count]
                    let post = InboxPost(text: "node loss post \(seq)", clientId: BenchClientID.make(phase: Self.nodeLossPhase, seq: seq), login: tab.login, session: tab.session)
                    let body = ByteBuffer(bytes: post.encode())
                    tracker.sending(seq, at: monotonicNanoseconds())
                    group.addTask {
                        for attempt in 1...20 {
                            do {
                                try await channel.publish(body, to: chat.topology.inbox, properties: properties)
                                tracker.confirmed(seq, at: monotonicNanoseconds())
                                return
                            } catch {
                                if attempt == 20 { return }
                                tracker.republishing()
                                try? await Task.sleep(for: .milliseconds(200))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let drain = ContinuousClock.now + .seconds(30)
            while !tracker.confirmedComplete, ContinuousClock.now < drain { try await Task.sleep(for: .milliseconds(50)) }
        } catch let failure {
            error = "\(failure)"
        }
        await channel.close()
        var result = tracker.result(tabs: tabs.count, node: loss.node, rate: loss.postsPerSecond, lossAt: lossAt.withLockedValue { $0 })
        result.error = error
        return result
    }

    /// Runs `command` with /bin/sh; throws when it fails or takes longer than `seconds`.
    static func run(_ command: String, within seconds: Double) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw ChatBenchError("`\(command)` did not end within \(Int(seconds)) s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard process.terminationStatus == 0 else { throw ChatBenchError("`\(command)` exited with status \(process.terminationStatus)") }
    }
}

/// A confirm-mode channel shared by concurrent publishers; after a nack or a failure the next
/// publish opens a fresh one (a channel whose publish met a quorum queue's leader election is
/// nacked on every later publish too).
final class ConfirmChannel: Sendable {
    let connection: AMQPConnection
    private let current = NIOLockedValueBox<Task<AMQPChannel, any Error>?>(nil)

    init(connection: AMQPConnection) { self.connection = connection }

    func publish(_ body: ByteBuffer, to queue: String, properties: BasicProperties) async throws {
        let task = self.current.withLockedValue { current in
            if let current { return current }
            let made = Task {
                let channel = try await self.connection.openChannel()
                try await channel.confirmSelect()
                return channel
            }
            current = made
            return made
        }
        do {
            let channel = try await task.value
            try await withDeadline(.seconds(10), "a confirm") {
                try await channel.startPublish(body: body, exchange: "", routingKey: queue, properties: properties).confirmed()
            }
        } catch {
            self.current.withLockedValue { if $0 == task { $0 = nil } }
            throw error
        }
    }

    func close() async {
        let task = self.current.withLockedValue { $0 }
        try? await task?.value.close()
    }
}
