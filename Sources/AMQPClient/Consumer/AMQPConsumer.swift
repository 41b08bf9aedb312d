import AMQPProtocol
import NIOCore

/// A consumer's deliveries as an async sequence.
///
/// The buffer is bounded: once it holds its high watermark (the larger of the configured
/// `consumerBufferSize` and the channel's prefetch count), the connection stops reading from
/// the socket until the application catches up; nothing is dropped. With acknowledgements the
/// broker never sends more than the prefetch count anyway.
///
/// The sequence ends normally after ``cancel()`` or a client channel close; it throws
/// ``AMQPError`` with code ``AMQPError/Code-swift.struct/consumerCancelled`` when the broker
/// cancels the consumer (e.g. its queue was deleted), or the channel's or connection's error
/// when those close. Iterate it once: ending the iteration (e.g. `break`) cancels the consumer.
public struct AMQPConsumer: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = AMQPDelivery
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        AMQPDelivery, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ConsumerDemandDelegate
    >

    /// The consumer tag the broker knows it by.
    public let tag: String
    /// The channel it consumes on.
    public let channel: AMQPChannel
    let producer: Producer

    /// Cancels the consumer (`basic.cancel`); the sequence ends once the broker confirms.
    public func cancel() async throws {
        let promise = self.channel.eventLoop.makePromise(of: Void.self)
        let id = self.channel.id
        let tag = self.tag
        self.channel.withHandler(failing: promise) {
            $0.sendRequest(channelID: id, method: Method.Basic.Cancel(consumerTag: tag).method, pending: .cancel(promise, tag: tag))
        }
        try await AMQPConnection.mapErrors { try await promise.futureResult.get() }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.producer.makeAsyncIterator())
    }

    /// Iterates the deliveries.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator

        /// The next delivery, nil once the consumer ended cleanly.
        public mutating func next() async throws -> AMQPDelivery? {
            try await self.base.next()
        }
    }
}

extension AMQPChannel {
    private static let consumerKeys = ManagedCounter()

    /// Starts a consumer on a queue (`basic.consume`).
    ///
    /// - Parameters:
    ///   - queue: The queue.
    ///   - tag: The consumer tag; "" lets the broker choose.
    ///   - noAck: The broker considers messages acknowledged as soon as it sends them.
    ///   - exclusive: No other consumer may use the queue.
    ///   - arguments: Extra arguments, e.g. `x-priority`.
    public func consume(
        queue: String,
        tag: String = "",
        noAck: Bool = false,
        exclusive: Bool = false,
        arguments: FieldTable = [:]
    ) async throws -> AMQPConsumer {
        let key = Self.consumerKeys.next()
        let channelID = self.id
        let handler = self.connection.handler
        let prefetch = try await self.currentPrefetch()
        let high = max(self.connection.configuration.consumerBufferSize, Int(prefetch))
        let sequence = AMQPConsumer.Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: max(1, high / 2), highWatermark: high),
            finishOnDeinit: false,
            delegate: ConsumerDemandDelegate(handler: handler, channelID: channelID, key: key)
        )
        let consumerTag: String
        do {
            consumerTag = try await self.startConsumer(
                queue: queue,
                tag: tag,
                noAck: noAck,
                exclusive: exclusive,
                arguments: arguments,
                key: key,
                sink: .sequence(sequence.source)
            )
        } catch {
            // The source is made not to finish on deinit: a consume that failed (its channel or
            // connection closed before the broker answered) must finish it, or dropping it traps.
            sequence.source.finish(error)
            throw error
        }
        return AMQPConsumer(tag: consumerTag, channel: self, producer: sequence.sequence)
    }

    /// Starts a consumer whose deliveries go to a callback on the event loop (no buffering).
    func consume(
        queue: String,
        noAck: Bool,
        onDelivery: @escaping @Sendable (AMQPDelivery) -> Void,
        onFinish: @escaping @Sendable (AMQPError?) -> Void
    ) async throws -> String {
        try await self.startConsumer(
            queue: queue,
            tag: "",
            noAck: noAck,
            exclusive: false,
            arguments: [:],
            key: Self.consumerKeys.next(),
            sink: .callback(onDelivery, finished: onFinish)
        )
    }

    private func startConsumer(
        queue: String,
        tag: String,
        noAck: Bool,
        exclusive: Bool,
        arguments: FieldTable,
        key: UInt64,
        sink: ConsumerSink
    ) async throws -> String {
        let promise = self.eventLoop.makePromise(of: String.self)
        let channelID = self.id
        let method = Method.Basic.Consume(queue: queue, consumerTag: tag, noAck: noAck, exclusive: exclusive, arguments: arguments)
        self.withHandler(failing: promise) {
            $0.sendRequest(channelID: channelID, method: method.method, pending: .consume(promise, key: key, sink: sink, noAck: noAck))
        }
        return try await AMQPConnection.mapErrors { try await promise.futureResult.get() }
    }

    private func currentPrefetch() async throws -> UInt16 {
        let channelID = self.id
        let handler = self.connection.handler
        return try await handler.eventLoop.submit { handler.value.channels[channelID]?.prefetchCount ?? 0 }.get()
    }

    /// Takes one message from a queue (`basic.get`); nil when the queue is empty.
    public func get(queue: String, noAck: Bool = false) async throws -> AMQPGetResult? {
        switch try await self.request(Method.Basic.Get(queue: queue, noAck: noAck).method) {
        case .method(.basicGetEmpty):
            return nil
        case .getOK(let getOK, let content):
            let delivery = AMQPDelivery(
                body: content.body,
                properties: content.header.properties,
                deliveryTag: getOK.deliveryTag,
                redelivered: getOK.redelivered,
                exchange: getOK.exchange,
                routingKey: getOK.routingKey,
                consumerTag: nil,
                channel: self
            )
            return AMQPGetResult(delivery: delivery, messageCount: getOK.messageCount)
        case .method(let method):
            throw AMQPError(code: .protocolError, message: "basic.get answered with \(method.name)")
        }
    }
}
