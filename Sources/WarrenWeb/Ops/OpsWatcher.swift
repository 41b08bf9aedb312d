import Logging
import WarrenCore
import WarrenOps

// JSONSerialization's numbers (NSNumber) need full Foundation on Linux.
import Foundation

/// Reads the broker's management API for the operator's page and the queue metrics, at most
/// once per ``maxAge`` whatever the number of pages asking.
///
/// Two readings, each cached for ``maxAge`` and made by one request at a time (the callers that
/// come meanwhile wait for it): the queues (the shared queues' details and the number of tab
/// queues: two requests), and the dead letters (one request, only while the dead-letter queue
/// holds any and a page asks). ``poll()`` reads the queues every ``maxAge`` for the
/// `warren_queue_messages` gauge (consumer lag) even when no page is open.
public actor OpsWatcher {
    /// How old a reading may be before it is made again.
    public static let maxAge: Duration = .seconds(5)
    /// Dead letters looked at (the first of the queue, put back at once), and the newest of them shown.
    static let deadLetterScan = 100
    static let deadLettersShown = 20
    /// A dead letter's payload is cut to this many characters.
    static let payloadCharacters = 300

    let api: ManagementAPI
    let topology: Topology
    let logger: Logger

    typealias Reading<Value: Sendable> = CachedReading<Value>.Reading

    struct Queues: Sendable {
        var queues: [OpsOverview.Queue]
        var tabs: Int
    }

    private let queueCache = CachedReading<Queues>(maxAge: OpsWatcher.maxAge)
    /// The last figures read, kept (with their age) beside an error of the management API.
    private var lastQueues: (at: ContinuousClock.Instant, figures: Queues)?
    private let deadCache = CachedReading<[OpsOverview.DeadLetter]>(maxAge: OpsWatcher.maxAge)
    /// Management requests made so far (tests check the cache with it).
    public private(set) var requests = 0

    /// A watcher of the management API `api`, for the deployment of `topology`.
    public init(api: ManagementAPI, topology: Topology, logger: Logger) {
        self.api = api
        self.topology = topology
        self.logger = logger
    }

    /// The overview: the queues and roles, and the dead letters, each at most ``maxAge`` old
    /// while the management API answers (else the error, with the last figures read).
    public func overview() async -> OpsOverview {
        let queues = await self.readQueues()
        let figures = self.lastQueues?.figures
        let waitingDead = figures?.queues.first { $0.queue == SharedQueues.label(self.topology.dead, self.topology) }?.messages ?? 0
        var deadError: OneShotHTTP.Failure?
        var shown: [OpsOverview.DeadLetter] = []
        if waitingDead > 0 {
            switch await self.readDeadLetters().value {
            case .success(let letters): shown = letters
            case .failure(let failure): deadError = failure
            }
        }
        let failure: OneShotHTTP.Failure? = (queues.value.failure) ?? deadError
        let byLabel = Dictionary((figures?.queues ?? []).map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        let roles = SharedQueues.roles(self.topology).map { role, names in
            let labels = names.map { SharedQueues.label($0, self.topology) }
            return OpsOverview.Role(role: role, instances: labels.compactMap { byLabel[$0]?.consumers }.max() ?? 0, queues: labels)
        }
        return OpsOverview(
            management: .init(ok: failure == nil, error: failure?.description),
            ageSeconds: self.lastQueues.map { Self.seconds(ContinuousClock.now - $0.at) },
            roles: figures == nil ? [] : roles,
            queues: figures?.queues ?? [],
            tabs: figures?.tabs,
            deadLetters: .init(waiting: waitingDead, shown: shown)
        )
    }

    /// Reads the queues every ``maxAge`` until cancelled, for the queue metrics.
    public func poll() async {
        while !Task.isCancelled {
            _ = await self.readQueues()
            try? await Task.sleep(for: Self.maxAge)
        }
    }

    // MARK: Readings

    private func readQueues() async -> Reading<Queues> {
        let (reading, previous, fresh) = await self.queueCache.get { [api, topology] in try await Self.fetchQueues(api, topology) }
        guard fresh else { return reading }
        self.requests += 2
        switch reading.value {
        case .success(let figures):
            if case .failure? = previous?.value { self.logger.notice("the management API answers again") }
            self.lastQueues = (reading.at, figures)
            for queue in figures.queues { QueueMetrics.observed(queue: queue.queue, messages: queue.messages, consumers: queue.consumers) }
        case .failure(let failure):
            // Once per outage, not every 5 s.
            if previous.map({ if case .success = $0.value { true } else { false } }) ?? true {
                self.logger.warning("the management API did not answer; the queue figures stand still", metadata: ["error": "\(failure)"])
            }
        }
        return reading
    }

    private func readDeadLetters() async -> Reading<[OpsOverview.DeadLetter]> {
        let (reading, _, fresh) = await self.deadCache.get { [api, topology] in try await Self.fetchDeadLetters(api, topology) }
        if fresh { self.requests += 1 }
        return reading
    }

    static func fetchQueues(_ api: ManagementAPI, _ topology: Topology) async throws -> Queues {
        let names = SharedQueues.all(topology)
        let shared = "^(" + names.map(ManagementAPI.literal).joined(separator: "|") + ")$"
        let (items, _) = try await api.queues(matching: shared, pageSize: names.count)
        // <prefix>.user.<login>.<session>: a session id has at least sessionMinLength characters,
        // so a person's `online` queue is not counted.
        let tabPattern = "^" + ManagementAPI.literal(topology.prefix) + "\\.user\\..+\\.[A-Za-z0-9_-]{\(Limits.sessionMinLength),}$"
        let (_, tabs) = try await api.queues(matching: tabPattern, pageSize: 1, columns: "name")
        let found = Dictionary(items.compactMap { item in (item["name"] as? String).map { ($0, item) } }, uniquingKeysWith: { first, _ in first })
        let queues = names.compactMap { name -> OpsOverview.Queue? in
            guard let item = found[name] else { return nil }
            let stats = item["message_stats"] as? [String: Any]
            func rate(_ key: String) -> Double { ((stats?[key] as? [String: Any])?["rate"] as? NSNumber)?.doubleValue ?? 0 }
            func count(_ key: String) -> Int { (item[key] as? NSNumber)?.intValue ?? 0 }
            return OpsOverview.Queue(
                queue: SharedQueues.label(name, topology), messages: count("messages"), ready: count("messages_ready"),
                unacked: count("messages_unacknowledged"), consumers: count("consumers"),
                publishRate: rate("publish_details"), deliverRate: rate("deliver_get_details")
            )
        }
        return Queues(queues: queues, tabs: tabs)
    }

    static func fetchDeadLetters(_ api: ManagementAPI, _ topology: Topology) async throws -> [OpsOverview.DeadLetter] {
        let messages = try await api.peek(topology.dead, count: deadLetterScan, truncate: payloadCharacters * 4)
        return messages.suffix(deadLettersShown).reversed().map { message in
            let properties = message["properties"] as? [String: Any]
            let headers = properties?["headers"] as? [String: Any]
            let death = (headers?["x-death"] as? [[String: Any]])?.first
            let payload = message["payload"] as? String ?? ""
            return OpsOverview.DeadLetter(
                queue: (death?["queue"] as? String).map { SharedQueues.label($0, topology) },
                reason: death?["reason"] as? String,
                time: (death?["time"] as? NSNumber)?.intValue,
                routingKey: (death?["routing-keys"] as? [String])?.first ?? message["routing_key"] as? String,
                count: (death?["count"] as? NSNumber)?.intValue,
                payload: String(payload.prefix(payloadCharacters))
            )
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) + Double(attoseconds) / 1e18) * 10).rounded() / 10
    }
}

/// One reading of the management API, kept for `maxAge`; while one is being made, the others who
/// ask wait for it instead of asking again.
actor CachedReading<Value: Sendable> {
    /// A reading and when it was made.
    struct Reading: Sendable {
        var at: ContinuousClock.Instant
        var value: Result<Value, OneShotHTTP.Failure>
    }

    let maxAge: Duration
    private var last: Reading?
    private var inFlight: Task<Reading, Never>?

    init(maxAge: Duration) {
        self.maxAge = maxAge
    }

    /// The last reading while it is younger than `maxAge`, else a new one by `read`; with the
    /// reading before it, and whether this call made it.
    func get(_ read: @escaping @Sendable () async throws -> Value) async -> (reading: Reading, previous: Reading?, fresh: Bool) {
        if let last, ContinuousClock.now - last.at < self.maxAge { return (last, nil, false) }
        if let inFlight { return (await inFlight.value, nil, false) }
        let previous = self.last
        let task = Task {
            let value: Result<Value, OneShotHTTP.Failure>
            do {
                value = .success(try await read())
            } catch let failure as OneShotHTTP.Failure {
                value = .failure(failure)
            } catch {
                value = .failure(OneShotHTTP.Failure(description: "the management API: \(error)"))
            }
            return Reading(at: ContinuousClock.now, value: value)
        }
        self.inFlight = task
        let reading = await task.value
        self.inFlight = nil
        self.last = reading
        return (reading, previous, true)
    }
}

extension Result {
    /// The failure, nil on success.
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
