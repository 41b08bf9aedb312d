import WarrenServices

/// What the chat benchmark runs.
public struct ChatBenchOptions: Sendable {
    /// The broker.
    public var url: String
    /// Tab counts; each gets its own run (login service, tabs, the four phases).
    public var tabCounts: [Int]
    /// The paced load, in deliveries per second (posts/s = this ÷ tabs, at least 1).
    public var pacedDeliveriesPerSecond: Double
    /// How long the paced phase posts.
    public var pacedSeconds: Double
    /// Deliveries in a full-speed phase (posts = this ÷ tabs, at least `minimumPosts`).
    public var fullDeliveries: Int
    /// The fewest posts in any phase.
    public var minimumPosts: Int
    /// Posts in flight at full speed (sent, not yet in every tab); 0 picks
    /// min(256, max(16, 20000 ÷ tabs)). Must stay below the tab queues' x-max-length.
    public var window: Int
    /// The login service's prefetch per consumer.
    public var loginPrefetch: UInt16
    /// How long the login service trusts a session queue it declared or saw without asking
    /// the broker again; nil takes WARREN_SESSION_MEMORY_MS's default (30 s). A knob to
    /// measure what the per-post check costs.
    public var sessionMemory: Duration?
    /// The chat-bench program to run the login service in, as a child process of its own
    /// (`chat-bench --login-service`); nil runs it in this process, where it shares the
    /// cooperative thread pool with the tabs' consumers.
    public var loginExecutable: String?
    /// The longest any phase, the logins or the set-up may take, in seconds.
    public var timeoutSeconds: Double
    /// How many times each (tabs, load) pair is measured, bare then login; every round is a
    /// row of its own, compared with the bare row of the same round.
    public var rounds: Int

    /// Also measure the bare path with publisher confirms (a row per load).
    public var bareWithConfirms: Bool
    /// Also measure the relay path (a row per load; one room only).
    public var relayPath: Bool
    /// Also measure the login path with metrics on (``MetricsSwitch``), right after the login
    /// path with them off, in the same login-service process; needs ``loginExecutable``.
    public var metricsPath: Bool

    /// Rooms mode: 0 runs every tab count in one room (general); R > 0 runs each tab count
    /// twice, in one room and then spread over R rooms of tabs ÷ R (one person per tab, each in
    /// general and one room, made in a store the login service reads), every post to one room.
    public var rooms: Int
    /// In rooms mode, the extra room bindings per person made (and removed) after the phases to
    /// measure what membership costs the broker (time and memory); 0 skips it.
    public var membershipProbe: Int
    /// Node-loss mode (``NodeLossOptions``): on a cluster, what one node's loss costs, instead
    /// of the phases; nil runs the phases.
    public var nodeLoss: NodeLossOptions?

    /// The defaults: 10, 50 and 200 tabs.
    public init(url: String) {
        self.url = url
        self.tabCounts = [10, 50, 200]
        self.pacedDeliveriesPerSecond = 2000
        self.pacedSeconds = 4
        self.fullDeliveries = 400_000
        self.minimumPosts = 50
        self.window = 0
        self.loginPrefetch = LoginRole.defaultPrefetch
        self.sessionMemory = nil
        self.loginExecutable = nil
        self.timeoutSeconds = 120
        self.rounds = 1
        self.bareWithConfirms = true
        self.relayPath = true
        self.rooms = 0
        self.membershipProbe = 10
        self.metricsPath = false
    }

    /// How many nodes a URL (or comma list of URLs) names.
    static func nodes(in url: String) -> Int { url.split(separator: ",").count }

    /// The room layouts each tab count runs in: 1, and `rooms` in rooms mode.
    var layouts: [Int] { self.rooms > 1 ? [1, self.rooms] : [1] }

    /// A smoke check: few tabs, few posts, seconds in all.
    public static func quick(url: String) -> ChatBenchOptions {
        var options = ChatBenchOptions(url: url)
        options.tabCounts = [3]
        options.pacedDeliveriesPerSecond = 60
        options.pacedSeconds = 0.5
        options.fullDeliveries = 60
        options.minimumPosts = 10
        options.timeoutSeconds = 30
        return options
    }

    // `tabs` below is a post's audience: every tab in one room, a room's tabs in rooms mode, so
    // the same delivery rates are asked of both layouts.

    /// Posts per second in the paced phase for `tabs` tabs.
    func pacedRate(tabs: Int) -> Double { max(1, self.pacedDeliveriesPerSecond / Double(tabs)) }

    /// Posts in the paced phase for `tabs` tabs.
    func pacedPosts(tabs: Int) -> Int { max(self.minimumPosts, Int((self.pacedRate(tabs: tabs) * self.pacedSeconds).rounded())) }

    /// Posts in the full-speed phase for `tabs` tabs.
    func fullPosts(tabs: Int) -> Int { max(self.minimumPosts, self.fullDeliveries / tabs) }

    /// Posts in flight at full speed for `tabs` tabs in each of `rooms` rooms: about 20,000
    /// deliveries in flight, at most 256 posts per room and 999 in all (each tab then holds
    /// fewer than its queue's x-max-length of 1,000).
    func window(tabs: Int, rooms: Int = 1) -> Int {
        self.window > 0 ? self.window : min(999, rooms * min(256, max(16, 20_000 / (tabs * rooms))))
    }

    /// Checks the values; the message names the bad one.
    public func validate() throws(ChatBenchError) {
        guard !self.tabCounts.isEmpty, self.tabCounts.allSatisfy({ $0 >= 1 && $0 <= 5000 }) else {
            throw ChatBenchError("tab counts must be 1 to 5000")
        }
        guard self.pacedDeliveriesPerSecond > 0, self.pacedSeconds > 0, self.fullDeliveries > 0, self.minimumPosts > 0 else {
            throw ChatBenchError("rates, durations and counts must be positive")
        }
        guard self.window >= 0, self.window < 1000 else {
            throw ChatBenchError("the window must be below the tab queues' x-max-length (1000), or 0 for the default")
        }
        if self.rooms > 1 {
            guard self.tabCounts.allSatisfy({ $0 % self.rooms == 0 && $0 >= self.rooms }) else {
                throw ChatBenchError("with --rooms \(self.rooms), every tab count must be a multiple of it (the rooms are filled evenly)")
            }
        }
        guard self.rooms >= 0, self.rooms <= 1000, self.membershipProbe >= 0, self.membershipProbe <= 100 else {
            throw ChatBenchError("rooms must be 0 to 1000, the membership probe 0 to 100 bindings per person")
        }
        guard self.timeoutSeconds > 0, self.rounds >= 1, self.loginPrefetch >= 1, (self.sessionMemory ?? .zero) >= .zero else {
            throw ChatBenchError("timeout, rounds and prefetch must be positive, the session memory not negative")
        }
        if let loss = self.nodeLoss {
            let nodes = ChatBenchOptions.nodes(in: self.url)
            guard nodes > 1, loss.node >= 2, loss.node <= nodes else {
                throw ChatBenchError("--node-loss wants a cluster's nodes in --url and a node from 2 to their number (the first holds the login service and the poster)")
            }
            guard loss.postsPerSecond > 0, loss.seconds > loss.after, loss.after > 0 else {
                throw ChatBenchError("--node-loss-rate must be positive and --node-loss-after below --node-loss-seconds")
            }
        }
        guard !self.metricsPath || self.loginExecutable != nil else {
            throw ChatBenchError("--metrics switches the login service's child process: it cannot run with --in-process")
        }
    }
}
