import NIOConcurrencyHelpers

/// Open channels lent out one caller at a time, for requests that may fail on the broker's
/// side (a passive declare of a missing queue, a redeclare with other arguments).
///
/// A broker error closes the channel it happened on and fails every request waiting on that
/// channel with the same error; a channel used by one caller at a time keeps one caller's 404
/// from being read as another's. A channel that comes back open is kept for the next caller (at
/// most `maxIdle` of them), so a steady stream of requests opens no channel at all; one that
/// the broker closed is dropped, and the next caller opens a fresh one.
public final class AMQPChannelPool: Sendable {
    /// The connection channels are opened on.
    public let connection: AMQPConnection
    /// The most idle channels kept open.
    public let maxIdle: Int
    private let state = NIOLockedValueBox(State())

    private struct State {
        var idle: [AMQPChannel] = []
        var closed = false
    }

    /// Creates an empty pool on `connection`.
    public init(connection: AMQPConnection, maxIdle: Int = 16) {
        self.connection = connection
        self.maxIdle = max(0, maxIdle)
    }

    /// Runs `body` on a channel no other caller uses meanwhile.
    @discardableResult
    public func withChannel<T: Sendable>(_ body: (AMQPChannel) async throws -> T) async throws -> T {
        let channel = try await self.take()
        do {
            let result = try await body(channel)
            await self.giveBack(channel)
            return result
        } catch {
            await self.giveBack(channel)
            throw error
        }
    }

    /// How many channels wait idle.
    public var idleCount: Int { self.state.withLockedValue { $0.idle.count } }

    /// Closes the idle channels; channels lent out are closed when they come back.
    public func close() async {
        let idle = self.state.withLockedValue { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for channel in idle { try? await channel.close() }
    }

    private func take() async throws -> AMQPChannel {
        while let channel = self.state.withLockedValue({ $0.idle.popLast() }) {
            if channel.closeReason == nil { return channel }
        }
        return try await self.connection.openChannel()
    }

    private func giveBack(_ channel: AMQPChannel) async {
        guard channel.closeReason == nil else { return }
        let kept = self.state.withLockedValue { state in
            guard !state.closed, state.idle.count < self.maxIdle else { return false }
            state.idle.append(channel)
            return true
        }
        if !kept { try? await channel.close() }
    }
}
