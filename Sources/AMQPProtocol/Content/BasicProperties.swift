/// The 14 properties of a basic-class message, each optional; nil means "not sent".
public struct BasicProperties: Sendable, Equatable {
    /// `content-type`, a MIME type such as `application/json` (flag bit 15).
    public var contentType: String?
    /// `content-encoding`, e.g. `gzip` (flag bit 14).
    public var contentEncoding: String?
    /// `headers`, application headers (flag bit 13).
    public var headers: FieldTable?
    /// `delivery-mode`: 1 transient, 2 persistent (flag bit 12).
    public var deliveryMode: UInt8?
    /// `priority`, 0 to 9 (flag bit 11).
    public var priority: UInt8?
    /// `correlation-id`, to match a reply to its request (flag bit 10).
    public var correlationID: String?
    /// `reply-to`, the queue a reply should go to (flag bit 9).
    public var replyTo: String?
    /// `expiration`, a per-message TTL in milliseconds, as text (flag bit 8).
    public var expiration: String?
    /// `message-id` (flag bit 7).
    public var messageID: String?
    /// `timestamp`, seconds since the Unix epoch (flag bit 6).
    public var timestamp: UInt64?
    /// `type`, the message type name (flag bit 5).
    public var type: String?
    /// `user-id`; RabbitMQ checks it against the connection's user (flag bit 4).
    public var userID: String?
    /// `app-id`, the sending application (flag bit 3).
    public var appID: String?
    /// `cluster-id`, reserved by the spec (flag bit 2).
    public var clusterID: String?

    /// Delivery mode 1: the broker may keep the message in memory only.
    public static let transientDeliveryMode: UInt8 = 1
    /// Delivery mode 2: a durable queue keeps the message on disk.
    public static let persistentDeliveryMode: UInt8 = 2

    /// Creates properties; every property left out is not sent.
    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        headers: FieldTable? = nil,
        deliveryMode: UInt8? = nil,
        priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        messageID: String? = nil,
        timestamp: UInt64? = nil,
        type: String? = nil,
        userID: String? = nil,
        appID: String? = nil,
        clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }
}
