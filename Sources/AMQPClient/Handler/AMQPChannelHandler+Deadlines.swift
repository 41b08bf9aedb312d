import AMQPProtocol
import NIOCore

/// The request timeout: no reply waits longer than `AMQPConfiguration.requestTimeout`, and no
/// confirm or publish waiting for the confirm window longer than its `confirmTimeout` (the
/// request timeout without one). One repeated task per connection sweeps what is outstanding,
/// so a publish costs no timer of its own.
extension AMQPChannelHandler {
    /// How often the sweep runs: a quarter of the (shorter) timeout, between 10 ms and 1 s.
    static func sweepInterval(for timeout: TimeAmount) -> TimeAmount {
        .nanoseconds(min(max(timeout.nanoseconds / 4, 10_000_000), 1_000_000_000))
    }

    /// Fails every request, confirm and waiting publish older than the timeout.
    func sweepDeadlines() {
        let now = self.now()
        let limit = UInt64(max(self.configuration.requestTimeout.nanoseconds, 1))
        let timeout = self.configuration.requestTimeout
        let confirmTimeout = self.configuration.effectiveConfirmTimeout
        let confirmLimit = UInt64(max(confirmTimeout.nanoseconds, 1))
        func expired(_ start: UInt64, _ bound: UInt64 = limit) -> Bool { now >= start && now - start >= bound }

        let late = self.requests.filter { expired($0.value.sentAt) }.sorted { $0.key < $1.key }
        for (id, entry) in late {
            guard self.requests.removeValue(forKey: id) != nil else { continue }
            let name = self.channels[entry.channelID]?.machine.pending.first { $0.id == id }?.method.name ?? "a request"
            let error = AMQPError(code: .timeout, message: "no reply to \(name) on channel \(entry.channelID) within \(timeout)")
            self.logger.warning("request timed out", metadata: ["amqp.channel": "\(entry.channelID)", "error": "\(error)"])
            entry.pending.fail(error)
            switch entry.pending {
            case .open, .close:
                break
            case .reply, .consume, .cancel, .qos:
                // A late reply could no longer be matched to its request: the channel goes.
                let closed = self.eventLoop.makePromise(of: Void.self)
                closed.futureResult.whenComplete { _ in }
                self.closeChannel(channelID: entry.channelID, promise: closed)
            }
        }

        for (channelID, context) in self.channels {
            let lateConfirms = context.confirms.filter { expired($0.value.startedAt, confirmLimit) }.map(\.key).sorted()
            for tag in lateConfirms {
                guard let confirm = context.confirms.removeValue(forKey: tag) else { continue }
                self.logger.warning("publish not confirmed in time", metadata: ["amqp.channel": "\(channelID)", "amqp.tag": "\(tag)"])
                confirm.promise.fail(
                    AMQPError(code: .timeout, message: "the broker did not confirm publish \(tag) on channel \(channelID) within \(confirmTimeout)")
                )
            }
            // Waiting publishes are in the order they were asked for: the oldest come first.
            while let first = context.waitingPublishes.first, expired(first.startedAt, confirmLimit) {
                context.waitingPublishes.removeFirst()
                first.promise.fail(
                    AMQPError(code: .timeout, message: "a publish on channel \(channelID) waited for the confirm window longer than \(confirmTimeout)")
                )
            }
        }
    }
}
