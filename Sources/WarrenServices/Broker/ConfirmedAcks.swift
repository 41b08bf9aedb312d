import AMQPClient
import NIOConcurrencyHelpers

/// Acks consumed messages once the publishes made from them are confirmed: oldest first, one
/// `multiple` ack per run of confirms, from one task beside the consumer loop.
///
/// The loop hands each delivery over with the publish it led to (``add(_:after:)``), in
/// delivery order, and goes on to the next. ``run()`` takes every pair waiting, waits for all
/// their confirms in one wait, and acks the newest confirmed delivery with `multiple: true`.
/// That acks the older deliveries of the run too, and nothing the loop still holds: every
/// delivery before the newest was either in a run or settled by the loop (acked, rejected)
/// before the newest was handed over, and a `multiple` ack touches unacked deliveries only. So
/// the consumer's channel must carry this one consumer, settled in order by one loop.
///
/// Bounded by the channel's prefetch: only unacked deliveries wait here, and the broker sends
/// no more of those than the prefetch. (Package-wide: chat-bench's relay path uses it too.)
package final class ConfirmedAcks: Sendable {
    private struct Pending: Sendable {
        let delivery: AMQPDelivery
        let publish: AMQPPendingPublish
    }

    private struct State {
        var pending: [Pending] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// Hands over a delivery to ack once `publish` is confirmed.
    package func add(_ delivery: AMQPDelivery, after publish: AMQPPendingPublish) {
        let waiter = self.state.withLockedValue { state in
            state.pending.append(Pending(delivery: delivery, publish: publish))
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more deliveries come: ``run()`` returns once those handed over are acked.
    package func finish() {
        let waiter = self.state.withLockedValue { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Acks until ``finish()`` was called and everything handed over is acked. Call it once.
    /// - Throws: The first publish that failed (nacked, or its channel closed), once the ones
    ///   confirmed before it are acked; it and every later delivery stay unacked, so the broker
    ///   delivers them again once the consumer's channel closes.
    package func run() async throws {
        while let batch = await self.next() {
            let (confirmed, failure) = await AMQPPendingPublish.confirmedPrefix(of: batch.map(\.publish))
            if confirmed > 0 { try await batch[confirmed - 1].delivery.ack(multiple: true) }
            if let failure { throw failure }
        }
    }

    /// Every pair waiting, at least one; nil once finished and none are left.
    private func next() async -> [Pending]? {
        while true {
            let taken: [Pending]? = self.state.withLockedValue { state in
                guard !state.pending.isEmpty else { return nil }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            }
            if let taken { return taken }
            if self.state.withLockedValue({ $0.finished && $0.pending.isEmpty }) { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLockedValue { state in
                    guard state.pending.isEmpty, !state.finished else { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
