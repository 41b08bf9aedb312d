import AMQPClient
import AMQPProtocol
import Logging
import NIOCore
import WarrenCore
import WarrenOps

/// Sends the REST API's posts (`POST /api/messages`) to `<prefix>.inbox` for the web role, on
/// behalf of the person the access token named, and waits for the login service's answer.
///
/// Each post is published persistent, with publisher confirms, with `user_id` set to the
/// services' broker account (the broker checks it against this connection's user) and
/// ``PostAuthor/onBehalfHeader`` naming the author, so the login service admits it without a
/// tab (see `LoginRole.handleAPIPost`). The reply comes by direct reply-to. Every wait ends by
/// `timeout`: a post the broker did not confirm by then is an error (it may or may not reach
/// the room), one confirmed but not answered is ``PostOutcome/queued`` (it waits in the inbox
/// for a login service). Posts never expire in the inbox: a confirmed post is never dropped.
///
/// It is also the ``WarrenRole`` that keeps its connection (see ``HistoryRPCClient``, which it
/// shares a connection with through ``RoleGroup``). While there is none, ``publish(_:)`` fails
/// at once.
public final class APIPostPublisher: PostPublishing, WarrenRole {
    /// The role's name, for logs and the connection name.
    public let name = "web-posts"

    private let configuration: WarrenConfiguration
    private let serviceUser: String
    private let timeout: TimeAmount
    private let logger: Logger
    private let rpc = RPCClientKeeper(confirming: true)

    /// Creates a publisher; `timeout` bounds the wait for the confirm and the answer together.
    public init(configuration: WarrenConfiguration, timeout: TimeAmount = .seconds(5), logger: Logger) {
        self.configuration = configuration
        self.serviceUser = configuration.serviceUser
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps `connection` for posts until graceful shutdown (then returns) or until the
    /// connection is lost (then throws, and ``RoleService`` connects again).
    public func run(on connection: AMQPConnection) async throws {
        try await self.rpc.hold(connection)
    }

    /// Publishes `post` on behalf of its login and waits for the login service's answer.
    public func publish(_ post: InboxPost) async throws(PostPublishError) -> PostOutcome {
        let start = ContinuousClock.now
        do throws(PostPublishError) {
            let outcome = try await self.send(post)
            if case .queued = outcome { RPCMetrics.observed("post", .timeout, since: start) } else { RPCMetrics.observed("post", .ok, since: start) }
            return outcome
        } catch {
            RPCMetrics.observed("post", .error, since: start)
            throw error
        }
    }

    /// ``publish(_:)`` without its metrics.
    private func send(_ post: InboxPost) async throws(PostPublishError) -> PostOutcome {
        var properties = BasicProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = BasicProperties.persistentDeliveryMode
        properties.userID = self.serviceUser
        properties.headers = [PostAuthor.onBehalfHeader: .string(post.login)]
        let milliseconds = self.timeout.nanoseconds / 1_000_000
        var call: AMQPPendingCall
        var attempt = 1
        while true {
            let client = try await self.client()
            call = client.startCall(
                body: ByteBuffer(bytes: post.encode()), routingKey: self.configuration.topology.inbox, properties: properties, timeout: self.timeout
            )
            do {
                try await call.sent()
                break
            } catch let error as AMQPError where error.code == .publishNacked && attempt < Self.attemptsAfterNack {
                // A channel whose publish landed during a quorum queue's leader election is nacked
                // on every later publish too: publish again on a fresh channel (the nacked one was
                // not enqueued, so the post is not doubled).
                self.logger.notice("API post nacked; publishing it again on a fresh channel", metadata: ["clientId": "\(post.clientId)"])
                await self.rpc.discard(client)
                attempt += 1
            } catch let error as AMQPError where error.code == .timeout {
                throw .unavailable("The broker did not confirm the post within \(milliseconds) ms; it may or may not reach the room.")
            } catch {
                self.logger.warning("API post not taken by the broker", metadata: ["error": "\(error)"])
                throw .unavailable("The broker did not take the post: \(error)")
            }
        }
        let delivery: AMQPDelivery
        do {
            delivery = try await call.reply()
        } catch {
            // Confirmed: the post is in the durable inbox and a login service will admit it.
            self.logger.notice("API post queued without an answer", metadata: ["clientId": "\(post.clientId)", "error": "\(error)"])
            return .queued
        }
        let reply: PostReply
        do {
            reply = try PostReply.decode(delivery.body.readableBytesView)
        } catch {
            self.logger.error("unreadable answer to an API post", metadata: ["error": "\(error)"])
            return .queued
        }
        if reply.ok, let id = reply.id { return .admitted(id: id) }
        return .refused(Refusal(Refusal.Code(rawValue: reply.code ?? Refusal.Code.malformedRequest.rawValue), reply.error ?? "The post was refused."))
    }

    /// How many channels a post is published on when the broker nacks it (see ``publish(_:)``).
    static let attemptsAfterNack = 3

    private func client() async throws(PostPublishError) -> AMQPRPCClient {
        do throws(RPCClientKeeper.Failure) {
            return try await self.rpc.client()
        } catch {
            throw .unavailable(error.description)
        }
    }
}
