import AMQPProtocol

/// What `queue.declare` answered.
public struct AMQPQueueDeclareResult: Sendable, Equatable {
    /// The queue name; the broker's choice when "" was declared.
    public var queue: String
    /// Messages ready in the queue.
    public var messageCount: UInt32
    /// Consumers on the queue.
    public var consumerCount: UInt32
}

extension AMQPChannel {
    /// Declares an exchange (`exchange.declare`).
    ///
    /// - Parameters:
    ///   - name: The exchange name.
    ///   - type: `direct`, `fanout`, `topic`, `headers` or a plugin's type.
    ///   - passive: Only check that it exists (404 closes the channel if not).
    ///   - durable: Survive a broker restart.
    ///   - autoDelete: Delete it when its last binding goes.
    ///   - internal: Only other exchanges may publish to it.
    ///   - arguments: Extra arguments, e.g. `alternate-exchange`.
    public func exchangeDeclare(
        _ name: String,
        type: String = "direct",
        passive: Bool = false,
        durable: Bool = false,
        autoDelete: Bool = false,
        internal: Bool = false,
        arguments: FieldTable = [:]
    ) async throws {
        let method = Method.Exchange.Declare(
            exchange: name,
            type: type,
            passive: passive,
            durable: durable,
            autoDelete: autoDelete,
            internal: `internal`,
            arguments: arguments
        )
        _ = try await self.request(method.method, expecting: Method.Exchange.DeclareOK.self)
    }

    /// Deletes an exchange (`exchange.delete`); `ifUnused` refuses when it has bindings.
    public func exchangeDelete(_ name: String, ifUnused: Bool = false) async throws {
        _ = try await self.request(Method.Exchange.Delete(exchange: name, ifUnused: ifUnused).method, expecting: Method.Exchange.DeleteOK.self)
    }

    /// Binds exchange `destination` to exchange `source` (`exchange.bind`, a RabbitMQ extension).
    public func exchangeBind(destination: String, source: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let method = Method.Exchange.Bind(destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        _ = try await self.request(method.method, expecting: Method.Exchange.BindOK.self)
    }

    /// Removes an exchange-to-exchange binding (`exchange.unbind`).
    public func exchangeUnbind(destination: String, source: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let method = Method.Exchange.Unbind(destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        _ = try await self.request(method.method, expecting: Method.Exchange.UnbindOK.self)
    }

    /// Declares a queue (`queue.declare`).
    ///
    /// - Parameters:
    ///   - name: The queue name; "" lets the broker choose one (returned in the result).
    ///   - passive: Only check that it exists (404 closes the channel if not).
    ///   - durable: Survive a broker restart.
    ///   - exclusive: Only this connection may use it; it goes with the connection.
    ///   - autoDelete: Delete it when its last consumer goes.
    ///   - arguments: Extra arguments, e.g. `x-message-ttl`, `x-queue-type`.
    /// - Returns: The name, message count and consumer count.
    @discardableResult
    public func queueDeclare(
        _ name: String = "",
        passive: Bool = false,
        durable: Bool = false,
        exclusive: Bool = false,
        autoDelete: Bool = false,
        arguments: FieldTable = [:]
    ) async throws -> AMQPQueueDeclareResult {
        let method = Method.Queue.Declare(
            queue: name,
            passive: passive,
            durable: durable,
            exclusive: exclusive,
            autoDelete: autoDelete,
            arguments: arguments
        )
        let reply = try await self.request(method.method, expecting: Method.Queue.DeclareOK.self)
        return AMQPQueueDeclareResult(queue: reply.queue, messageCount: reply.messageCount, consumerCount: reply.consumerCount)
    }

    /// Binds a queue to an exchange (`queue.bind`).
    public func queueBind(queue: String, exchange: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let method = Method.Queue.Bind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        _ = try await self.request(method.method, expecting: Method.Queue.BindOK.self)
    }

    /// Removes a queue binding (`queue.unbind`).
    public func queueUnbind(queue: String, exchange: String, routingKey: String = "", arguments: FieldTable = [:]) async throws {
        let method = Method.Queue.Unbind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        _ = try await self.request(method.method, expecting: Method.Queue.UnbindOK.self)
    }

    /// Removes every ready message from a queue (`queue.purge`); returns how many went.
    @discardableResult
    public func queuePurge(_ name: String) async throws -> UInt32 {
        try await self.request(Method.Queue.Purge(queue: name).method, expecting: Method.Queue.PurgeOK.self).messageCount
    }

    /// Deletes a queue (`queue.delete`); returns how many messages it held. Its consumers are
    /// cancelled by the broker and end with ``AMQPError/Code-swift.struct/consumerCancelled``.
    @discardableResult
    public func queueDelete(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws -> UInt32 {
        let method = Method.Queue.Delete(queue: name, ifUnused: ifUnused, ifEmpty: ifEmpty)
        return try await self.request(method.method, expecting: Method.Queue.DeleteOK.self).messageCount
    }
}
