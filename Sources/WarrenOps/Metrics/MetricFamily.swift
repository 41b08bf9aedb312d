/// One metric family Warren exports: its Prometheus name, kind, help text, labels and buckets.
///
/// Every family is declared once, in ``MetricFamily/all``; the helpers that record them
/// (``PostMetrics``, ``BrokerMetrics``, ...) and the factory that gives their help text and
/// buckets to Prometheus (``WarrenMetricsFactory``) read it from there, and the README's list is
/// checked against it by a test. Labels are bounded: codes, kinds, roles, routes, never a login
/// name or a tab's queue.
public struct MetricFamily: Sendable, Hashable {
    /// How the family is recorded.
    public enum Kind: String, Sendable {
        /// Only goes up (`_total`).
        case counter
        /// Goes up and down.
        case gauge
        /// Observations in buckets (`_bucket`, `_sum`, `_count`).
        case histogram
    }

    /// The Prometheus name, `warren_…`.
    public let name: String
    /// How it is recorded.
    public let kind: Kind
    /// The `# HELP` text.
    public let help: String
    /// The label names, in the order the helpers give them.
    public let labels: [String]
    /// A histogram's upper bounds (seconds for a `_seconds` family); empty for the others.
    public let buckets: [Double]

    init(_ name: String, _ kind: Kind, _ help: String, labels: [String] = [], buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.buckets = buckets
    }

    /// Whether the histogram observes durations (its name ends in `_seconds`).
    public var isDuration: Bool { self.kind == .histogram && self.name.hasSuffix("_seconds") }
}

extension MetricFamily {
    /// Latencies from a millisecond to half a minute.
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    // MARK: Posts and tabs (login service)

    /// Posts admitted by the login service, by route.
    public static let postsAdmitted = MetricFamily(
        "warren_posts_admitted_total", .counter, "Posts the login service admitted, by route (plain, pow, rpc).", labels: ["route"]
    )
    /// Posts refused, by refusal code.
    public static let postsRefused = MetricFamily(
        "warren_posts_refused_total", .counter,
        "Posts the login service refused, by refusal code (text.tooLong, session.unknown, request.malformed, ...).", labels: ["code"]
    )
    /// Logins answered with a queue.
    public static let logins = MetricFamily(
        "warren_logins_total", .counter, "Tabs logged in by the login service, by session (new, resumed).", labels: ["session"]
    )
    /// Logouts.
    public static let logouts = MetricFamily("warren_logouts_total", .counter, "Tabs logged out by the login service.")
    /// Tabs signed in through this process.
    public static let tabsSignedIn = MetricFamily(
        "warren_tabs_signed_in", .gauge,
        "Tabs this login-service process signed in with a new session and has not logged out (a tab closed without logging out stays counted until the process restarts)."
    )

    // MARK: The broker

    /// Messages the roles published.
    public static let deliveriesPublished = MetricFamily(
        "warren_deliveries_published_total", .counter,
        "Messages the roles published to the broker, by kind (room event kinds, backfill, pow.job, replies).", labels: ["kind"]
    )
    /// Reconnections after a lost broker connection.
    public static let brokerReconnects = MetricFamily(
        "warren_broker_reconnects_total", .counter, "Broker connections made again after one was lost, by role.", labels: ["role"]
    )
    /// Whether each role holds its broker connection.
    public static let brokerConnected = MetricFamily(
        "warren_broker_connected", .gauge, "1 while the role holds its broker connection, 0 while it reconnects, by role.", labels: ["role"]
    )

    /// Frames the AMQP client read and wrote (the library's `amqp.client.frames`).
    public static let amqpFrames = MetricFamily(
        "warren_amqp_frames_total", .counter, "AMQP frames the process's broker connections read (in) and wrote (out), heartbeats included.",
        labels: ["direction"]
    )
    /// Bytes the AMQP client read and wrote (the library's `amqp.client.bytes`).
    public static let amqpBytes = MetricFamily(
        "warren_amqp_bytes_total", .counter, "Bytes the process's broker connections read (in) and wrote (out).", labels: ["direction"]
    )
    /// Publishes awaiting the broker's confirm (the library's `amqp.client.confirms.outstanding`).
    public static let confirmsOutstanding = MetricFamily(
        "warren_amqp_confirms_outstanding", .gauge, "Publishes of the process's broker connections sent and not yet confirmed by the broker."
    )
    /// Replies to direct reply-to addresses the reply path retried or dropped (the library's `amqp.client.replies`).
    public static let amqpReplies = MetricFamily(
        "warren_amqp_replies_total", .counter,
        "Replies to direct reply-to addresses sent on a second try (retried) or dropped because the broker refused them for a requester whose node is gone (dropped).",
        labels: ["outcome"]
    )
    /// Request/reply calls over the broker.
    public static let rpcSeconds = MetricFamily(
        "warren_rpc_duration_seconds", .histogram,
        "Time from a request over the broker to its reply, by method (history, backfill, pow, post) and outcome (ok, timeout, error).",
        labels: ["method", "outcome"], buckets: latencyBuckets
    )
    /// gRPC calls served (warren.v1.Chat on the web role, warren.v1.ProofOfWork on the PoW worker).
    public static let grpcSeconds = MetricFamily(
        "warren_grpc_duration_seconds", .histogram,
        "Time from a gRPC call's arrival to its end (a Subscribe stream: its whole life), by method (warren.v1.Chat/Post, ...) and status code (ok, unauthenticated, invalidArgument, ...).",
        labels: ["method", "code"], buckets: latencyBuckets
    )
    /// A new tab's backfill.
    public static let backfillSeconds = MetricFamily(
        "warren_backfill_duration_seconds", .histogram,
        "Time the login service took to fill a new tab's queue with the room's latest events (asking the history role, then publishing them).",
        buckets: latencyBuckets
    )

    // MARK: Proof of work

    /// How long a proof took to find.
    public static let powSolveSeconds = MetricFamily(
        "warren_pow_solve_seconds", .histogram, "Time the PoW worker took to find a proof, by how it was asked (queue, rpc).",
        labels: ["via"], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64]
    )
    /// Hashes a second of the latest proof.
    public static let powHashRate = MetricFamily(
        "warren_pow_hashes_per_second", .gauge, "Hash rate of the PoW worker's latest proof."
    )

    // MARK: History

    /// Events per batch written.
    public static let historyBatchEvents = MetricFamily(
        "warren_history_batch_events", .histogram, "Events in each batch the history role wrote to the store.",
        buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500, 1000, 10000]
    )
    /// How long a batch write took.
    public static let historyWriteSeconds = MetricFamily(
        "warren_history_write_seconds", .histogram, "Time the history role took to write one batch to the store (a transaction).",
        buckets: latencyBuckets
    )

    // MARK: The web role

    /// HTTP requests answered (Hummingbird's MetricsMiddleware, renamed).
    public static let httpRequests = MetricFamily(
        "warren_http_requests_total", .counter, "HTTP requests the web role answered, by route, method and status.",
        labels: ["route", "method", "status"]
    )
    /// HTTP request durations (Hummingbird's MetricsMiddleware, renamed).
    public static let httpRequestSeconds = MetricFamily(
        "warren_http_request_duration_seconds", .histogram, "Time the web role took to answer an HTTP request, by route, method and status.",
        labels: ["route", "method", "status"], buckets: latencyBuckets
    )
    /// HTTP requests that ended in an error (Hummingbird's MetricsMiddleware, renamed).
    public static let httpRequestErrors = MetricFamily(
        "warren_http_request_errors_total", .counter, "HTTP requests that ended in an error thrown by a handler, by route, method and status.",
        labels: ["route", "method", "status"]
    )
    /// HTTP requests in flight (Hummingbird's MetricsMiddleware, renamed).
    public static let httpActiveRequests = MetricFamily(
        "warren_http_active_requests", .gauge, "HTTP requests the web role is answering now, by method.", labels: ["method"]
    )
    /// The broker's questions about browsers.
    public static let authDecisions = MetricFamily(
        "warren_auth_decisions_total", .counter,
        "Answers to the broker's HTTP auth questions about browsers, by check (user, vhost, resource, topic) and decision (allow, deny).",
        labels: ["check", "decision"]
    )

    // MARK: The broker's queues (the web role, from the management API)

    /// Messages waiting in each shared queue: the consumer lag.
    public static let queueMessages = MetricFamily(
        "warren_queue_messages", .gauge,
        "Messages in each shared queue, ready and unacknowledged (the consumers' lag), by queue (its name without the prefix); read from the broker's management API by the web role at most every 5 s.",
        labels: ["shared_queue"]
    )
    /// Consumers of each shared queue.
    public static let queueConsumers = MetricFamily(
        "warren_queue_consumers", .gauge,
        "Consumers of each shared queue, by queue (its name without the prefix); read with warren_queue_messages.", labels: ["shared_queue"]
    )

    /// Every family, in the order the README lists them.
    public static let all: [MetricFamily] = [
        postsAdmitted, postsRefused, logins, logouts, tabsSignedIn,
        deliveriesPublished, brokerReconnects, brokerConnected, amqpFrames, amqpBytes, confirmsOutstanding, amqpReplies, rpcSeconds, grpcSeconds, backfillSeconds,
        powSolveSeconds, powHashRate,
        historyBatchEvents, historyWriteSeconds,
        httpRequests, httpRequestSeconds, httpRequestErrors, httpActiveRequests, authDecisions,
        queueMessages, queueConsumers,
    ]

    /// The family named `name`, if Warren declares one.
    public static func named(_ name: String) -> MetricFamily? {
        byName[name]
    }

    private static let byName: [String: MetricFamily] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
