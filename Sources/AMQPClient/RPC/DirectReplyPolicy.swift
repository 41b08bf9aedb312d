import AMQPProtocol

/// The decisions of ``AMQPDirectReplies``, with no I/O.
///
/// RabbitMQ 3.10 routes a publish to `amq.rabbitmq.reply-to.<encoded pid>.<key>` on the default
/// exchange by decoding the requester's channel from the name (`rabbit_channel:deliver_reply`).
/// The encoded pid names the requester's node by a hash, looked up among the nodes the broker
/// sees running; for a node that is not running (killed, stopped, cut off) the lookup returns a
/// value `deliver_reply` does not match, the publisher's channel crashes (`case_clause`), and
/// the broker closes the publisher's whole connection with 541 INTERNAL_ERROR. So a reply to a
/// requester whose node went costs the connection it was published on, and every other publish
/// in flight on it. Replies therefore go on a connection of their own; a failed one is tried
/// once more, alone, on a fresh connection: a 541 then is this reply's, and it is dropped.
enum DirectReplyPolicy {
    /// What to do after a reply's publish failed.
    enum Next: Equatable, Sendable {
        /// Try once more, alone, on a fresh connection.
        case retryAlone
        /// The broker refused this reply for a requester that is gone: drop it.
        case drop
        /// Give up: throw the error to the caller.
        case fail
    }

    /// The prefix of every direct reply-to address a requester's `reply_to` carries.
    static let addressPrefix = "amq.rabbitmq.reply-to."

    /// Whether `address` is a direct reply-to address (not a queue).
    static func isDirect(_ address: String) -> Bool {
        address.hasPrefix(Self.addressPrefix)
    }

    /// Whether the broker closed the connection with 541 INTERNAL_ERROR (not a channel: a
    /// channel-level 541 closes only the channel).
    static func isInternalErrorClose(_ error: AMQPError) -> Bool {
        error.code == .connectionClosed && error.replyCode == ReplyCode.internalError.rawValue
    }

    /// After the first attempt, on the shared reply connection, failed with `error`.
    ///
    /// A lost connection (a 541 among them: which reply in flight caused it is not known), a
    /// timeout, a nack or a channel closed under it are worth one more try; a broker refusal of
    /// the publish itself (403, 404, 406, ...) would come again and is thrown.
    static func afterShared(_ error: AMQPError) -> Next {
        switch error.code {
        case .connectionClosed, .connectionFailed, .heartbeatTimeout, .timeout, .publishNacked, .connectionBlockedTimeout:
            .retryAlone
        case .channelClosed:
            // Closed by us or with the connection (no reply code); the broker closing the
            // channel with a code refused something of ours.
            error.replyCode == nil ? .retryAlone : .fail
        default:
            .fail
        }
    }

    /// After the second attempt, alone on its connection, failed with `error`: a 541 closing
    /// the connection can only be this reply's.
    static func afterAlone(_ error: AMQPError) -> Next {
        Self.isInternalErrorClose(error) ? .drop : .fail
    }

    /// Whether a connection opened at `openedAt` may carry a retry of a reply that failed at
    /// `failedAt`: only one opened after the failure, so the retry never goes on the connection
    /// (or a sibling opened just before) that may be closing for the same cause.
    static func mayCarryRetry(openedAt: ContinuousClock.Instant, failedAt: ContinuousClock.Instant) -> Bool {
        openedAt > failedAt
    }
}
