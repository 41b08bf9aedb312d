import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Connects to any node of a broker (``AMQPConfiguration/endpoints``) and, after a loss, to the
/// next one, with the backoff of an ``AMQPRecoveryPolicy``: the one reconnection mechanism of
/// the project. ``AMQPRecoveringConnection`` recovers through it, and so do Warren's services
/// (every role, the web role's broker link, `warren tail`).
///
/// It starts at a random node, so many clients spread over a cluster; each round tries every
/// node once, beginning with the one that last answered, or the one after it once
/// ``connectionLost()`` says that connection went away.
public final class AMQPConnector: Sendable {
    /// Where to connect: ``AMQPConfiguration/endpoints`` are the nodes.
    public let configuration: AMQPConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let preferred: NIOLockedValueBox<Int>

    /// Creates a connector.
    /// - Parameters:
    ///   - start: The index of the node to try first; a random one by default.
    public init(
        configuration: AMQPConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "warren.amqp"),
        start: Int? = nil
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        let count = configuration.endpoints.count
        self.preferred = NIOLockedValueBox((start ?? Int.random(in: 0..<count)) % count)
    }

    /// The node the next round tries first.
    public var preferredEndpoint: AMQPConfiguration.Endpoint {
        let endpoints = self.configuration.endpoints
        return endpoints[self.preferred.withLockedValue { $0 } % endpoints.count]
    }

    /// The connection to the preferred node was lost: the next round starts with the node after it.
    public func connectionLost() {
        let count = self.configuration.endpoints.count
        self.preferred.withLockedValue { $0 = ($0 + 1) % count }
    }

    /// One round: tries every node once, from the preferred one, and returns the first
    /// connection made. With one node its error is thrown as is; with several, an error that
    /// names what each node said (the last one's code).
    public func connectOnce() async throws -> AMQPConnection {
        let endpoints = self.configuration.endpoints
        let start = self.preferred.withLockedValue { $0 }
        var failures: [String] = []
        var last: (any Error)?
        for offset in 0..<endpoints.count {
            let index = (start + offset) % endpoints.count
            do {
                let connection = try await AMQPConnection.connect(
                    configuration: self.configuration.aimed(at: endpoints[index]), eventLoopGroup: self.eventLoopGroup, logger: self.logger
                )
                self.preferred.withLockedValue { $0 = index }
                return connection
            } catch {
                if endpoints.count > 1 {
                    self.logger.debug("cannot connect to this node; trying the next", metadata: ["amqp.host": "\(endpoints[index])", "error": "\(error)"])
                }
                failures.append("\(endpoints[index]): \(error)")
                last = error
            }
        }
        // The next round starts after the node this one started with.
        self.preferred.withLockedValue { $0 = (start + 1) % endpoints.count }
        guard endpoints.count > 1, let last else { throw last ?? AMQPError(code: .connectionFailed, message: "no broker address") }
        let code = (last as? AMQPError)?.code ?? .connectionFailed
        throw AMQPError(code: code, message: "no broker node answered: " + failures.joined(separator: "; "))
    }

    /// Rounds of ``connectOnce()`` with the policy's backoff before each, until one connects:
    /// returns the connection and how many rounds it took.
    ///
    /// - Parameters:
    ///   - attempt: The first round's attempt number (its wait is the policy's delay for it).
    ///   - waitFirst: Whether to wait before the first round too (after a loss: yes).
    ///   - random: Values in 0...1 for the jitter.
    ///   - sleep: How to wait; may return early (shutdown), after which `isStopped` is asked.
    ///   - isStopped: Whether to give up, checked after each wait: then `CancellationError`.
    ///   - failed: Told of each failed round (its number and error), e.g. to log it.
    public func reconnect(
        policy: AMQPRecoveryPolicy,
        attempt: Int = 0,
        waitFirst: Bool = true,
        random: @Sendable () -> Double = { Double.random(in: 0...1) },
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        isStopped: () -> Bool = { Task.isCancelled },
        failed: (Int, any Error) -> Void = { _, _ in }
    ) async throws -> (connection: AMQPConnection, rounds: Int) {
        var attempt = attempt
        var rounds = 0
        var wait = waitFirst
        while true {
            if wait { try await sleep(policy.delay(attempt: attempt, random: random())) }
            wait = true
            if isStopped() { throw CancellationError() }
            attempt += 1
            rounds += 1
            do {
                return (try await self.connectOnce(), rounds)
            } catch {
                failed(rounds, error)
            }
        }
    }
}
