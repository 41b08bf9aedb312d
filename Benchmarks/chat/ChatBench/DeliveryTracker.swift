import NIOConcurrencyHelpers

/// What the tabs report each delivery of the running phase to.
protocol DeliveryCounting: Sendable {
    /// `tab` received post `seq` at `now` (monotonic nanoseconds).
    func delivered(_ seq: Int, tab: Int, at now: UInt64)
    /// A delivery of a post that is not the phase's.
    func stray()
}

/// What one phase of the benchmark sent and what every tab received, with the latency of each
/// delivery. Bounded: it holds one flag per (post, tab of its room) and one latency per
/// delivery, sized when the phase starts.
///
/// The tabs are in `rooms` rooms of equal size: tab `t` is in room `t % rooms`, and post `seq`
/// goes to room `seq % rooms` (one room: every post to every tab). The poster marks a post sent
/// just before publishing it; every tab reports each delivery. A post is complete once every
/// tab of its room has it; the poster keeps at most `window` posts incomplete, so no tab queue
/// ever holds more than `window` messages. A delivery to a tab outside the post's room is
/// counted as misrouted (the broker's routing would be wrong).
final class DeliveryTracker: DeliveryCounting {
    private struct State {
        var sentAt: [UInt64]
        var remaining: [Int32]
        var seen: [Bool]
        var latencies: [UInt64] = []
        var sent = 0
        var completed = 0
        var duplicates = 0
        var strays = 0
        var misrouted = 0
        var firstSentAt: UInt64 = 0
        var lastDeliveredAt: UInt64 = 0
        var window = Int.max
        var windowWaiter: CheckedContinuation<Void, Never>?
    }

    /// Posts in the phase.
    let posts: Int
    /// Tabs in all.
    let tabs: Int
    /// Rooms the tabs are spread over (a divisor of `tabs`).
    let rooms: Int
    /// Tabs every post must reach: those of its room.
    var audience: Int { self.tabs / self.rooms }
    private let state: NIOLockedValueBox<State>

    init(posts: Int, tabs: Int, rooms: Int = 1) {
        precondition(rooms >= 1 && tabs % rooms == 0, "the tabs must fill the rooms evenly")
        self.posts = posts
        self.tabs = tabs
        self.rooms = rooms
        let audience = tabs / rooms
        var state = State(
            sentAt: Array(repeating: 0, count: posts),
            remaining: Array(repeating: Int32(audience), count: posts),
            seen: Array(repeating: false, count: posts * audience)
        )
        state.latencies.reserveCapacity(posts * audience)
        self.state = NIOLockedValueBox(state)
    }

    /// Records that post `seq` is about to be published at `now` (monotonic nanoseconds).
    func sending(_ seq: Int, at now: UInt64) {
        self.state.withLockedValue { state in
            if state.sent == 0 { state.firstSentAt = now }
            state.sentAt[seq] = now
            state.sent += 1
        }
    }

    /// Records that `tab` received post `seq` at `now`; a post never sent, one a tab got
    /// twice, or one outside the tab's room, is counted, never dropped silently.
    func delivered(_ seq: Int, tab: Int, at now: UInt64) {
        let waiter: CheckedContinuation<Void, Never>? = self.state.withLockedValue { state in
            guard seq >= 0, seq < self.posts, tab >= 0, tab < self.tabs, state.sentAt[seq] != 0 else {
                state.strays += 1
                return nil
            }
            guard tab % self.rooms == seq % self.rooms else {
                state.misrouted += 1
                return nil
            }
            let slot = seq * self.audience + tab / self.rooms
            if state.seen[slot] {
                state.duplicates += 1
                return nil
            }
            state.seen[slot] = true
            state.latencies.append(now &- state.sentAt[seq])
            state.lastDeliveredAt = max(state.lastDeliveredAt, now)
            state.remaining[seq] -= 1
            if state.remaining[seq] == 0 { state.completed += 1 }
            guard state.sent - state.completed < state.window, let waiter = state.windowWaiter else { return nil }
            state.windowWaiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Records a delivery that is not one of the phase's posts (e.g. of an earlier phase).
    func stray() {
        self.state.withLockedValue { $0.strays += 1 }
    }

    /// Waits until fewer than `window` posts are incomplete; returns early when cancelled.
    func waitForWindow(_ window: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready: Bool = self.state.withLockedValue { state in
                    state.window = window
                    if state.sent - state.completed < window || Task.isCancelled { return true }
                    state.windowWaiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { state in
                defer { state.windowWaiter = nil }
                return state.windowWaiter
            }
            waiter?.resume()
        }
    }

    /// Whether every post reached every tab of its room.
    var isComplete: Bool { self.state.withLockedValue { $0.completed == self.posts } }

    /// Polls until every post reached every tab, or `seconds` passed; returns whether it did.
    func waitForAll(within seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if self.isComplete { return true }
            try await Task.sleep(for: .milliseconds(2))
        }
        return self.isComplete
    }

    /// What was measured so far.
    func snapshot() -> Snapshot {
        self.state.withLockedValue { state in
            Snapshot(
                posts: self.posts, tabs: self.tabs, rooms: self.rooms, sent: state.sent, completed: state.completed,
                delivered: state.latencies.count, duplicates: state.duplicates, strays: state.strays, misrouted: state.misrouted,
                latencies: state.latencies,
                elapsedNanoseconds: state.lastDeliveredAt > state.firstSentAt ? state.lastDeliveredAt - state.firstSentAt : 0
            )
        }
    }

    /// A copy of the tracker's figures.
    struct Snapshot: Sendable {
        var posts: Int
        var tabs: Int
        var rooms: Int
        var sent: Int
        var completed: Int
        var delivered: Int
        var duplicates: Int
        var strays: Int
        var misrouted: Int
        var latencies: [UInt64]
        /// From the first post sent to the last delivery.
        var elapsedNanoseconds: UInt64
    }
}
