import AMQPClient
import AMQPProtocol
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenOps

extension HistoryRole {
    /// What the writer loop reacts to: a delivery, a flush time, or the end of the consumer.
    enum WriterInput: Sendable {
        case delivery(AMQPDelivery)
        case flushTime
        case ended((any Error)?)
    }

    /// Consumes `<prefix>.history` and drives a ``HistoryBatcher`` until graceful shutdown.
    ///
    /// Deliveries and flush times arrive on one stream, handled one at a time; the stream is
    /// unbounded in type but holds at most the prefetch count of deliveries (the broker sends no
    /// more before an acknowledgement) and one flush time per batch.
    func write(connection: AMQPConnection, publisher: AMQPChannel) async throws {
        let channel = try await connection.openChannel()
        try await channel.basicQos(prefetchCount: self.prefetch)
        let consumer = try await channel.consume(queue: self.topology.history)
        let (inputs, continuation) = AsyncStream<WriterInput>.makeStream()
        var batcher = HistoryBatcher(
            batchSize: self.configuration.historyBatch,
            flushInterval: .milliseconds(self.configuration.historyFlushMs),
            initialBackoff: self.initialBackoff
        )
        var barriers: [UInt64: AMQPDelivery] = [:]

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await delivery in consumer.cancelOnGracefulShutdown() {
                        continuation.yield(.delivery(delivery))
                    }
                    continuation.yield(.ended(nil))
                } catch {
                    continuation.yield(.ended(error))
                }
            }

            /// Carries out actions in order; a write's follow-ups run after the actions before it.
            func perform(_ actions: [HistoryBatcher.Action]) async throws {
                var queue = actions[...]
                while let action = queue.popFirst() {
                    switch action {
                    case .write(let events):
                        let writeStarted = ContinuousClock.now
                        let written: Bool
                        do {
                            // Transient kinds (typing) pass through the queue but are never kept.
                            let new = try await self.store.insert(events.filter(\.kind.isStored))
                            self.logger.debug("batch written", metadata: ["events": "\(events.count)", "new": "\(new)"])
                            HistoryMetrics.batchWritten(events: events.count, in: .now - writeStarted)
                            PostTrail.stored(events, logger: self.logger)
                            written = true
                        } catch {
                            self.logger.error(
                                "store write failed; the batch goes back to the queue",
                                metadata: ["events": "\(events.count)", "error": "\(error)", "failuresInARow": "\(batcher.failuresInARow + 1)"]
                            )
                            written = false
                        }
                        // The seam's error ends the role with nothing acknowledged.
                        if written { try await self.afterCommit?(events) }
                        queue.append(contentsOf: written ? batcher.writeSucceeded() : batcher.writeFailed())
                    case .ack(let tag):
                        try await channel.ack(deliveryTag: tag, multiple: true)
                    case .requeue(let tag, let delay):
                        // Shutdown cuts the wait short; the nack still goes (or the channel's close requeues).
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                        try await channel.nack(deliveryTag: tag, multiple: true, requeue: true)
                        barriers = barriers.filter { $0.key > tag }
                    case .deadLetter(let tag, let reason):
                        if let delivery = barriers.removeValue(forKey: tag) {
                            try await delivery.deadLetter(reason, logger: self.logger)
                        } else {
                            self.logger.warning("rejected to dead-letter", metadata: ["reason": "\(reason)", "deliveryTag": "\(tag)"])
                            try await channel.reject(deliveryTag: tag, requeue: false)
                        }
                    case .scheduleFlush(let instant):
                        group.addTask {
                            try? await Task.sleep(until: instant, clock: .continuous)
                            continuation.yield(.flushTime)
                        }
                    case .answerBarrier(let tag):
                        guard let barrier = barriers.removeValue(forKey: tag) else { preconditionFailure("unknown barrier \(tag)") }
                        try await self.answerBarrier(barrier, publisher: publisher)
                    }
                }
            }

            var ended = false
            var failure: (any Error)?
            reading: for await input in inputs {
                switch input {
                case .delivery(let delivery):
                    switch self.classify(delivery) {
                    case .event(let event):
                        try await perform(batcher.received(tag: delivery.deliveryTag, event: event, now: .now))
                    case .barrier:
                        barriers[delivery.deliveryTag] = delivery
                        try await perform(batcher.barrierReceived(tag: delivery.deliveryTag))
                    case .malformed(let reason):
                        try await perform(batcher.malformedReceived(tag: delivery.deliveryTag, reason: reason))
                    }
                case .flushTime:
                    try await perform(batcher.timerFired(now: .now))
                case .ended(let error):
                    ended = true
                    failure = error
                    break reading
                }
            }
            // A clean end (shutdown): write what waits. After a lost channel nothing can be
            // acknowledged; the broker requeues what was delivered.
            if ended && failure == nil {
                try await perform(batcher.finishing())
            }
            continuation.finish()
            group.cancelAll()
            if let failure { throw failure }
        }
        try? await channel.close()
    }

    enum Classified {
        case event(RoomEvent)
        case barrier
        case malformed(String)
    }

    func classify(_ delivery: AMQPDelivery) -> Classified {
        if delivery.properties.headers?[Self.barrierHeader] != nil {
            return delivery.properties.replyTo?.isEmpty == false ? .barrier : .malformed("history barrier without reply_to")
        }
        do {
            return .event(try RoomEvent.decode(delivery.body.readableBytesView))
        } catch {
            return .malformed("not a room event: \(error)")
        }
    }

    private func answerBarrier(_ barrier: AMQPDelivery, publisher: AMQPChannel) async throws {
        let replyTo = barrier.properties.replyTo ?? ""
        let reply: HistoryReply
        do throws(Refusal) {
            reply = await self.answer(try HistoryRequest.decode(barrier.body.readableBytesView).validate())
        } catch {
            reply = .failure(error)
        }
        try await self.reply(reply, to: replyTo, correlationID: barrier.properties.correlationID, publisher: publisher)
        try await barrier.ack()
    }
}
