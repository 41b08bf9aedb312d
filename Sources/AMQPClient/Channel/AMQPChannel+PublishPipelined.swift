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
