import AMQPClient
import AMQPProtocol
import NIOConcurrencyHelpers
import WarrenCore

/// Reading a room's stream over AMQP the way the page reads it over STOMP: a bounded prefetch,
/// a starting offset, and one cumulative ack per `SharedRules.streamAckEvery` deliveries.
struct StreamSubscription: Sendable {
    let consumer: AMQPConsumer

    /// Subscribes to `stream` on `channel` from `offset` (`next`, `first`, or a number): the
    /// prefetch is `SharedRules.streamPrefetch` (per consumer: other consumers of the channel
    /// keep theirs).
    static func subscribe(_ stream: String, on channel: AMQPChannel, from offset: StreamStart = .next) async throws -> StreamSubscription {
        try await channel.basicQos(prefetchCount: UInt16(SharedRules.streamPrefetch))
        return StreamSubscription(consumer: try await channel.consume(queue: stream, arguments: ["x-stream-offset": offset.argument]))
    }

    /// Reads the deliveries until the consumer ends: each one's events (nil when its body is not
    /// a tab message) and offset go to `handle` in the order they came, and every
    /// `SharedRules.streamAckEvery` deliveries one ack covers them all. Returns when the consumer
    /// ended cleanly (cancelled by the client, or its channel closed by the client); throws when
    /// the broker cancelled it (`consumerCancelled`: e.g. the stream's member it read went) or
    /// its channel or connection failed.
    func read(_ handle: ([RoomEvent]?, Int64?) -> Void) async throws {
        var unacked = 0
        for try await delivery in self.consumer {
            var offset: Int64?
            if case .int64(let value)? = delivery.properties.headers?["x-stream-offset"] { offset = value }
            handle((try? TabMessage.decode(delivery.body.readableBytesView))?.events, offset)
            unacked += 1
            if unacked >= SharedRules.streamAckEvery {
                try await delivery.ack(multiple: true)
                unacked = 0
            }
        }
    }
}

extension EventLog {
    /// Consumes `stream` on `channel` from `offset` (`next`, `first`, or a number) into this log;
    /// returns the offsets seen, in the order they came.
    @discardableResult
    func consumeStream(_ stream: String, on channel: AMQPChannel, from offset: StreamStart = .next) async throws -> StreamOffsets {
        let subscription = try await StreamSubscription.subscribe(stream, on: channel, from: offset)
        let offsets = StreamOffsets()
        Task {
            try await subscription.read { events, offset in
                if let events { self.append(events) }
                if let offset { offsets.append(offset) }
            }
        }
        return offsets
    }
}

/// Where a stream consumer starts.
enum StreamStart: Sendable, CustomStringConvertible {
    case next
    case first
    case offset(Int64)
    /// The first chunk written at or after this time (unix seconds).
    case timestamp(UInt64)

    var argument: FieldValue {
        switch self {
        case .next: .string("next")
        case .first: .string("first")
        case .offset(let value): .int64(value)
        case .timestamp(let seconds): .timestamp(seconds)
        }
    }

    var description: String {
        switch self {
        case .next: "next"
        case .first: "first"
        case .offset(let value): "offset=\(value)"
        case .timestamp(let seconds): "timestamp=\(seconds)"
        }
    }
}

/// The stream offsets a consumer saw.
final class StreamOffsets: Sendable {
    private let box = NIOLockedValueBox<[Int64]>([])
    func append(_ offset: Int64) { self.box.withLockedValue { $0.append(offset) } }
    var all: [Int64] { self.box.withLockedValue { $0 } }
}
