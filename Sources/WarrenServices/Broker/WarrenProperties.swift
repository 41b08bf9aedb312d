import AMQPProtocol

/// Message properties Warren publishes with.
enum WarrenProperties {
    /// JSON, persistent: for messages that go to durable queues.
    static func persistent(messageID: String? = nil, headers: FieldTable? = nil) -> BasicProperties {
        var properties = BasicProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = BasicProperties.persistentDeliveryMode
        properties.messageID = messageID
        properties.headers = headers
        return properties
    }

    /// JSON, transient, with a correlation id: for replies to temporary reply queues.
    static func reply(correlationID: String?) -> BasicProperties {
        var properties = BasicProperties()
        properties.contentType = "application/json"
        properties.correlationID = correlationID
        return properties
    }
}
