import NIOCore

/// Where a consumer's deliveries go: a backpressured async sequence, or a callback (used by
/// the RPC client, which resolves replies without a task of its own).
enum ConsumerSink: Sendable {
    typealias Source = NIOThrowingAsyncSequenceProducer<
        AMQPDelivery, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ConsumerDemandDelegate
    >.Source

    /// Deliveries are yielded to the source; `.stopProducing` pauses socket reads.
    case sequence(Source)
    /// Deliveries are handed to the callback on the event loop; it must not block.
    case callback(@Sendable (AMQPDelivery) -> Void, finished: @Sendable (AMQPError?) -> Void)

    func finish(_ error: AMQPError?) {
        switch self {
        case .sequence(let source):
            if let error { source.finish(error) } else { source.finish() }
        case .callback(_, let finished):
            finished(error)
        }
    }
}

/// Tells the handler when a consumer's buffer drained (read more) or its sequence ended.
struct ConsumerDemandDelegate: NIOAsyncSequenceProducerDelegate {
    let handler: NIOLoopBound<AMQPChannelHandler>
    let channelID: UInt16
    let key: UInt64

    func produceMore() {
        let handler = self.handler
        let channelID = self.channelID
        let key = self.key
        handler.eventLoop.execute {
            handler.value.consumerDemanded(channelID: channelID, key: key)
        }
    }

    func didTerminate() {
        let handler = self.handler
        let channelID = self.channelID
        let key = self.key
        handler.eventLoop.execute {
            handler.value.consumerTerminated(channelID: channelID, key: key)
        }
    }
}
