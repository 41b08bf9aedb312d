import AMQPClient
import AMQPProtocol
import Logging
import NIOCore
import WarrenCore

/// Asks the history role over `<prefix>.history.rpc` (direct reply-to), for the web role's
/// `/api/history` and `/api/search`.
///
/// It is also the ``WarrenRole`` that keeps its connection: run it in a ``RoleService``, which
/// connects again after the broker goes away. While there is no connection, ``ask(_:)`` fails at
/// once as unavailable. A request expires in the queue after the timeout, so a history role that
/// comes back later does not answer requests nobody waits for any more.
public final class HistoryRPCClient: HistoryAnswering, WarrenRole {
    /// The role's name, for logs and the connection name.
    public let name = "web-history"

    private let configuration: WarrenConfiguration
    private let timeout: TimeAmount
    private let logger: Logger
    private let rpc = RPCClientKeeper(confirming: false)

    /// Creates a client; `timeout` bounds the wait for each reply.
    public init(configuration: WarrenConfiguration, timeout: TimeAmount = .seconds(3), logger: Logger) {
        self.configuration = configuration
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps `connection` for requests until graceful shutdown (then returns) or until the
    /// connection is lost (then throws, and ``RoleService`` connects again).
    public func run(on connection: AMQPConnection) async throws {
        try await self.rpc.hold(connection)
    }

    /// Sends `request` to the history role and waits up to the timeout for its reply.
    public func ask(_ request: HistoryRequest) async throws(HistoryAskError) -> HistoryReply {
        let client = try await self.client()
        var properties = WarrenProperties.persistent()
        properties.expiration = String(self.timeout.nanoseconds / 1_000_000)
        let delivery: AMQPDelivery
        do {
            delivery = try await timedRPC("history") {
                try await client.call(
                    body: ByteBuffer(bytes: request.encode()),
                    routingKey: self.configuration.topology.historyRPC,
                    properties: properties,
                    timeout: self.timeout
                )
            }
        } catch let error as AMQPError where error.code == .timeout {
            throw .timeout("The history service did not answer within \(self.timeout.nanoseconds / 1_000_000) ms.")
        } catch {
            self.logger.warning("history request failed", metadata: ["error": "\(error)"])
            throw .unavailable("The history request could not be sent: \(error)")
        }
        do {
            return try HistoryReply.decode(delivery.body.readableBytesView)
        } catch {
            self.logger.error("history reply unreadable", metadata: ["error": "\(error)"])
            throw .unavailable("The history service sent a reply that could not be read.")
        }
    }

    private func client() async throws(HistoryAskError) -> AMQPRPCClient {
        do throws(RPCClientKeeper.Failure) {
            return try await self.rpc.client()
        } catch {
            throw .unavailable(error.description)
        }
    }
}
