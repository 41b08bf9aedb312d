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
        /// Through `<prefix>.inbox` and the login service.
        case login
    }

    /// How fast the posts are sent.
    public enum Load: String, Sendable, Codable {
        /// At a fixed rate the machine sustains.
        case paced
        /// As fast as the window of posts in flight allows.
        case full
    }

    /// Tabs (queues with a consumer each).
    public var tabs: Int
    /// The load.
    public var load: Load
    /// The path.
    public var path: Path
    /// The round (from 1).
    public var round: Int
    /// Posts sent.
    public var posts: Int
    /// Deliveries expected: posts × tabs.
    public var expectedDeliveries: Int
    /// Deliveries that arrived (each post once in each tab).
    public var deliveries: Int
    /// Deliveries seen twice in one tab.
    public var duplicates: Int
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

    /// Whether every post reached every tab exactly once.
    public var isComplete: Bool { self.error == nil && self.deliveries == self.expectedDeliveries && self.duplicates == 0 }

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
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return Double(sorted[min(max(rank, 0), sorted.count - 1)]) / 1e6
        }
        self.init(
            tabs: tabs, load: load, path: path, round: round,
            posts: snapshot.posts, expectedDeliveries: snapshot.posts * snapshot.tabs,
            deliveries: snapshot.delivered, duplicates: snapshot.duplicates,
            targetPostsPerSecond: target, window: window, seconds: seconds,
            postsPerSecond: seconds > 0 ? Double(snapshot.completed) / seconds : 0,
            deliveriesPerSecond: seconds > 0 ? Double(snapshot.delivered) / seconds : 0,
            p50Ms: percentile(0.50), p99Ms: percentile(0.99), maxMs: percentile(1.0),
            error: error
        )
    }
}
