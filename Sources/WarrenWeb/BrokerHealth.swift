import Logging
import NIOCore
import NIOPosix

/// Answers "is the broker reachable?" for `/healthz`, remembering the answer for a short time.
///
/// A storm of health probes must not become a storm of sockets to the broker: an answer younger
/// than `maximumAge` is reused, and probes that arrive while a check runs wait for that check
/// instead of starting their own.
public actor CachedHealthCheck<C: Clock> where C.Duration == Duration {
    private let check: @Sendable () async -> Bool
    private let maximumAge: Duration
    private let clock: C
    private var lastAnswer: (reachable: Bool, at: C.Instant)?
    private var running: Task<Bool, Never>?

    /// Creates a cache around a check.
    /// - Parameters:
    ///   - maximumAge: how long an answer is reused.
    ///   - clock: the clock that ages answers; injected so tests need not sleep.
    ///   - check: the real, possibly slow, check.
    public init(maximumAge: Duration = .seconds(1), clock: C, check: @escaping @Sendable () async -> Bool) {
        self.check = check
        self.maximumAge = maximumAge
        self.clock = clock
    }

    /// The latest answer, checking again when the remembered one is too old.
    public func isReachable() async -> Bool {
        if let lastAnswer, lastAnswer.at.duration(to: self.clock.now) < self.maximumAge {
            return lastAnswer.reachable
        }
        if let running {
            return await running.value
        }
        let check = self.check
        let task = Task { await check() }
        self.running = task
        let reachable = await task.value
        self.lastAnswer = (reachable, self.clock.now)
        self.running = nil
        return reachable
    }
}

extension CachedHealthCheck where C == ContinuousClock {
    /// Creates a cache around a check, aged by the continuous clock.
    public init(maximumAge: Duration = .seconds(1), check: @escaping @Sendable () async -> Bool) {
        self.init(maximumAge: maximumAge, clock: ContinuousClock(), check: check)
    }
}

/// Checks that a TCP connection to the broker's AMQP port can be opened, then closes it.
///
/// A stand-in: once Warren's AMQP client lands, `/healthz` will report that client's connection
/// state instead of opening a socket of its own.
/// - Parameters:
///   - endpoint: the broker's AMQP host and port.
///   - timeout: how long a connection attempt may take.
///   - logger: where a failure is reported, at debug level.
/// - Returns: a check suitable for ``buildApplication(configuration:brokerReachable:logger:)``.
public func tcpReachabilityCheck(
    to endpoint: WebConfiguration.BrokerEndpoint,
    timeout: Duration = .seconds(1),
    logger: Logger = Logger(label: "warren.web.health")
) -> @Sendable () async -> Bool {
    {
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(milliseconds))
        do {
            let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            try? await channel.close()
            return true
        } catch {
            logger.debug(
                "Broker not reachable",
                metadata: ["host": "\(endpoint.host)", "port": "\(endpoint.port)", "error": "\(error)"]
            )
            return false
        }
    }
}
