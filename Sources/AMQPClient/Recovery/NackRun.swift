/// Counts the broker's consecutive nacks on a confirm channel.
///
/// RabbitMQ can go on nacking every publish on a channel whose first publish met a quorum queue
/// leader failover, while a new channel is fine (see the broker notes). So after `limit` nacks
/// in a row an ``AMQPRecoveringChannel`` reopens its channel and retries the publish; an ack in
/// between ends the run. A pure value, tested on its own.
struct NackRun: Sendable, Equatable {
    /// Nacks in a row that call for a new channel; 0 never does.
    let limit: Int
    /// Nacks since the last ack (or since the channel was reopened).
    private(set) var count = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The broker acked a publish: the run is over.
    mutating func acked() {
        self.count = 0
    }

    /// The broker nacked a publish. Returns true when this nack completes a run of `limit`:
    /// the caller reopens the channel, and counting starts again from zero.
    mutating func nacked() -> Bool {
        guard self.limit > 0 else { return false }
        self.count += 1
        guard self.count >= self.limit else { return false }
        self.count = 0
        return true
    }
}
