import WarrenCore

/// What the PoW worker records.
public enum PowMetrics {
    /// A proof was found.
    public static func solved(_ proof: Proof) {
        WarrenMetrics.observe(.powSolveSeconds, .milliseconds(proof.elapsedMs), [("via", proof.via.rawValue)])
        WarrenMetrics.set(.powHashRate, Double(proof.hashesPerSecond))
    }
}

/// What the history role records.
public enum HistoryMetrics {
    /// A batch of `events` was committed in `duration`.
    public static func batchWritten(events: Int, in duration: Duration) {
        WarrenMetrics.observe(.historyBatchEvents, Double(events))
        WarrenMetrics.observe(.historyWriteSeconds, duration)
    }
}

/// What the web role records about the broker's questions (its HTTP auth backend).
public enum AuthMetrics {
    /// The broker's questions.
    public enum Check: String, Sendable {
        case user, vhost, resource, topic
    }

    /// One question answered; returns `allowed`, so a route can record and answer in one go.
    @discardableResult
    public static func decided(_ check: Check, allowed: Bool) -> Bool {
        WarrenMetrics.count(.authDecisions, [("check", check.rawValue), ("decision", allowed ? "allow" : "deny")])
        return allowed
    }
}

/// What the roles record about their requests over the broker.
public enum RPCMetrics {
    /// How a call ended.
    public enum Outcome: String, Sendable {
        case ok, timeout, error
    }

    /// A call of `method` (history, backfill, pow, post) started at `start` ended with `outcome`.
    public static func observed(_ method: String, _ outcome: Outcome, since start: ContinuousClock.Instant) {
        WarrenMetrics.observe(.rpcSeconds, ContinuousClock.now - start, [("method", method), ("outcome", outcome.rawValue)])
    }

    /// A gRPC call of `method` (its fully qualified name: one of the services' own, so the
    /// label's values are bounded) that arrived at `start` ended with status `code`.
    public static func servedGRPC(_ method: String, code: String, since start: ContinuousClock.Instant) {
        WarrenMetrics.observe(.grpcSeconds, ContinuousClock.now - start, [("method", method), ("code", code)])
    }

    /// A new tab's backfill started at `start` is in its queue.
    public static func backfilled(since start: ContinuousClock.Instant) {
        WarrenMetrics.observe(.backfillSeconds, ContinuousClock.now - start)
    }
}

/// What the web role records about the broker's shared queues (from the management API).
public enum QueueMetrics {
    /// `queue` (a shared queue's name without the prefix) held `messages` with `consumers`.
    public static func observed(queue: String, messages: Int, consumers: Int) {
        WarrenMetrics.set(.queueMessages, Double(messages), [("shared_queue", queue)])
        WarrenMetrics.set(.queueConsumers, Double(consumers), [("shared_queue", queue)])
    }
}
