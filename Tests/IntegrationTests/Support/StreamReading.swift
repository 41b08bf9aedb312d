import AMQPClient
import AMQPProtocol
import NIOConcurrencyHelpers
import WarrenCore

/// Reading a room's stream over AMQP the way the page reads it over STOMP: a bounded prefetch,
/// a starting offset, and one cumulative ack per `SharedRules.streamAckEvery` deliveries.
extension EventLog {
    /// Consumes `stream` on `channel` from `offset` (`next`, `first`, or a number) into this log;
    /// returns the offsets seen, in the order they came.
    @discardableResult
    func consumeStream(_ stream: String, on channel: AMQPChannel, from offset: StreamStart = .next) async throws -> StreamOffsets {
        try await channel.basicQos(prefetchCount: UInt16(SharedRules.streamPrefetch))
        let consumer = try await channel.consume(queue: stream, arguments: ["x-stream-offset": offset.argument])
        let offsets = StreamOffsets()
        Task {
            var unacked = 0
            for try await delivery in consumer {
                if let message = try? TabMessage.decode(delivery.body.readableBytesView) {
                    self.append(message.events)
                }
                if case .int64(let value)? = delivery.properties.headers?["x-stream-offset"] { offsets.append(value) }
                unacked += 1
                if unacked >= SharedRules.streamAckEvery {
                    try await delivery.ack(multiple: true)
                    unacked = 0
                }
            }
        }
        return offsets
    }
}

/// Where a stream consumer starts.
enum StreamStart {
    case next
    case first
    case offset(Int64)

    var argument: FieldValue {
        switch self {
        case .next: .string("next")
        case .first: .string("first")
        case .offset(let value): .int64(value)
        }
    }
}

/// The stream offsets a consumer saw.
final class StreamOffsets: Sendable {
    private let box = NIOLockedValueBox<[Int64]>([])
    func append(_ offset: Int64) { self.box.withLockedValue { $0.append(offset) } }
    var all: [Int64] { self.box.withLockedValue { $0 } }
}
