import BenchStats
/// One measured phase: a number of tabs, a load (paced or full speed) and a path (the bare
/// broker or through the login service).
public struct ChatBenchResult: Sendable, Codable, Equatable {
    /// How the posts travel.
    public enum Path: String, Sendable, Codable {
        /// Straight to the room fanout: the ceiling.
        case bare
        /// Straight to the room fanout on a channel in confirm mode, every confirm awaited (but
        /// not one before the next publish): what the broker's confirms cost without the login
        /// service.
        case bareConfirmed = "bare+confirms"
        /// Through `<prefix>.bench.relay` and a relay that only forwards each body to the room,
        /// with the login service's confirms and acks (``BenchRelay``): the hop without the
        /// login service's checks.
        case relay
        /// Through `<prefix>.inbox` and the login service.
        case login
        /// The login path with Warren's metrics recorded (`--metrics`; ``MetricsSwitch``).
        case loginMetrics = "login+metrics"
    }

    /// How fast the posts are sent.
    public enum Load: String, Sendable, Codable {
        /// At a fixed rate the machine sustains.
        case paced
        /// As fast as the window of posts in flight allows.
        case full
    }

    /// Tabs (queues with a consumer each), one person each.
    public var tabs: Int
    /// Rooms the tabs are spread over evenly (1: every tab in one room); each post goes to one
    /// room, so it reaches tabs ÷ rooms tabs.
    public var rooms: Int = 1
    /// The load.
    public var load: Load
    /// The path.
    public var path: Path
    /// The round (from 1).
    public var round: Int
    /// Posts sent.
    public var posts: Int
    /// Deliveries expected: posts × the tabs of a room.
    public var expectedDeliveries: Int
    /// Deliveries that arrived (each post once in each tab).
    public var deliveries: Int
    /// Deliveries seen twice in one tab.
    public var duplicates: Int
    /// Deliveries to a tab outside the post's room.
    public var misrouted: Int = 0
    /// The posting rate asked for (paced), nil at full speed.
    public var targetPostsPerSecond: Double?
    /// Posts in flight at most.
    public var window: Int
    /// From the first post sent to the last delivery.
    public var seconds: Double
    /// Posts per second over ``seconds``.
    public var postsPerSecond: Double
    /// Deliveries per second over ``seconds``.
    public var deliveriesPerSecond: Double
    /// Post-to-delivery latency, median over every delivery in every tab, in milliseconds.
    public var p50Ms: Double
    /// The 99th percentile.
    public var p99Ms: Double
    /// The largest.
    public var maxMs: Double
    /// Why the phase failed (not every delivery arrived), nil when it did not.
    public var error: String?
    /// The CPU time the phase took, by process; nil when none could be read.
    public var cpu: CPU? = nil

    /// CPU seconds (user + system) from the first post to the last delivery, by process, read
    /// from `/proc` (Linux); a process that could not be read is nil.
    public struct CPU: Sendable, Codable, Equatable {
        /// The broker (beam.smp), when `scripts/bench chat` started it and named its pid.
        public var brokerSeconds: Double?
        /// The benchmark: the poster and every tab's consumer (and the login service when it
        /// runs in-process).
        public var benchSeconds: Double?
        /// The child process that runs the login service and the relay path's relay.
        public var loginServiceSeconds: Double?
        /// The wall-clock time the readings span.
        public var wallSeconds: Double

        init(reading: ProcessCPU.Reading, wallSeconds: Double) {
            self.brokerSeconds = reading.broker
            self.benchSeconds = reading.bench
            self.loginServiceSeconds = reading.loginService
            self.wallSeconds = wallSeconds
        }

        /// How busy the machine's cores were with these processes, 0 to 1.
        public func busy(cores: Int) -> Double? {
            let used = [self.brokerSeconds, self.benchSeconds, self.loginServiceSeconds].compactMap { $0 }.reduce(0, +)
            guard self.wallSeconds > 0, cores > 0 else { return nil }
            return used / (self.wallSeconds * Double(cores))
        }
    }

    /// Whether every post reached every tab of its room exactly once, and no other tab.
    public var isComplete: Bool {
        self.error == nil && self.deliveries == self.expectedDeliveries && self.duplicates == 0 && self.misrouted == 0
    }

    /// Whether every figure is a finite number.
    public var figuresAreFinite: Bool {
        [self.seconds, self.postsPerSecond, self.deliveriesPerSecond, self.p50Ms, self.p99Ms, self.maxMs].allSatisfy(\.isFinite)
    }
}

extension ChatBenchResult {
    /// Builds the result from a tracker's figures.
    init(
        tabs: Int, load: Load, path: Path, round: Int, target: Double?, window: Int,
        snapshot: DeliveryTracker.Snapshot, error: String?
    ) {
        let seconds = Double(snapshot.elapsedNanoseconds) / 1e9
        let sorted = snapshot.latencies.sorted()
        func percentile(_ p: Double) -> Double { Percentile.of(sorted, p).map { Double($0) / 1e6 } ?? 0 }
        self.init(
            tabs: tabs, rooms: snapshot.rooms, load: load, path: path, round: round,
            posts: snapshot.posts, expectedDeliveries: snapshot.posts * (snapshot.tabs / snapshot.rooms),
            deliveries: snapshot.delivered, duplicates: snapshot.duplicates, misrouted: snapshot.misrouted,
            targetPostsPerSecond: target, window: window, seconds: seconds,
            postsPerSecond: seconds > 0 ? Double(snapshot.completed) / seconds : 0,
            deliveriesPerSecond: seconds > 0 ? Double(snapshot.delivered) / seconds : 0,
            p50Ms: percentile(0.50), p99Ms: percentile(0.99), maxMs: percentile(1.0),
            error: error
        )
    }
}
