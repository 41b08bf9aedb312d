import AMQPProtocol
import NIOCore

/// A publish that is on its way, whose outcome (the broker's confirm, in confirm mode) is
/// awaited later with ``confirmed()``.
public struct AMQPPendingPublish: Sendable {
    let future: EventLoopFuture<Void>

    /// Returns once the broker confirmed the message (or, without confirm mode, once it was
    /// written to the socket).
    /// - Throws: ``AMQPError``, as ``AMQPChannel/publish(body:exchange:routingKey:mandatory:properties:)``.
    public func confirmed() async throws {
        try await AMQPConnection.mapErrors { try await self.future.get() }
    }

    /// One pending publish that is confirmed once both this one and `other` are, and fails
    /// when either fails: for a message made into two publishes (to two exchanges) that is to
    /// be acknowledged once both are confirmed.
    public func and(_ other: AMQPPendingPublish) -> AMQPPendingPublish {
        AMQPPendingPublish(future: self.future.and(other.future).map { _ in })
    }

    /// Waits until every publish in `publishes` is settled, all in one wait, and says how many
    /// of them, from the first, were confirmed before the first that failed.
    ///
    /// For acting on a run of publishes at once (e.g. one `multiple` ack for the messages they
    /// were made from) without a wait per publish. Publishes of one channel only.
    /// - Returns: The length of the confirmed prefix, and the first failure (``AMQPError``),
    ///   if any publish failed.
    public static func confirmedPrefix(of publishes: [AMQPPendingPublish]) async -> (count: Int, failure: AMQPError?) {
        guard let first = publishes.first else { return (0, nil) }
        let futures = publishes.map(\.future)
        let results: [Result<Void, any Error>]
        do {
            results = try await EventLoopFuture.whenAllComplete(futures, on: first.future.eventLoop).get()
        } catch {
            // whenAllComplete itself never fails; kept for the type checker.
            return (0, AMQPError(code: .connectionClosed, message: "\(error)"))
        }
        for (index, result) in results.enumerated() {
            if case .failure(let error) = result {
                return (index, (error as? AMQPError) ?? AMQPError(code: .connectionClosed, message: "\(error)"))
            }
        }
        return (results.count, nil)
    }
}

extension AMQPChannel {
    /// Starts a publish and returns without waiting for its confirm, so one task can have many
    /// publishes in flight and still send them in order: publishes started one after another
    /// go out on the wire in that order. Await ``AMQPPendingPublish/confirmed()`` before acting
    /// on the message being safe (e.g. acknowledging what it was made from).
    ///
    /// Everything else is as in ``publish(body:exchange:routingKey:mandatory:properties:)``,
    /// including the bound on unconfirmed publishes (further ones queue in the client).
    public func startPublish(
        body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: BasicProperties = BasicProperties()
    ) -> AMQPPendingPublish {
        let promise = self.eventLoop.makePromise(of: Void.self)
        let id = self.id
        let publish = Method.Basic.Publish(exchange: exchange, routingKey: routingKey, mandatory: mandatory)
        self.withHandler(failing: promise) {
            $0.publish(channelID: id, publish: publish, properties: properties, body: body, promise: promise)
        }
        return AMQPPendingPublish(future: promise.futureResult)
    }
}
