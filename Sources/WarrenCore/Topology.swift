/// The broker names of one Warren deployment, all under one prefix (`chat` by default).
///
/// Several deployments share a broker by choosing different prefixes. Every service builds its
/// names here, so they cannot drift apart.
public struct Topology: Sendable, Hashable {
    /// The prefix used when `WARREN_PREFIX` is not set.
    public static let defaultPrefix = "chat"

    /// The prefix, e.g. `chat` or `staging.chat`.
    public let prefix: String

    /// A topology under a checked prefix: dot-separated segments of 1 to 64 characters of
    /// `[A-Za-z0-9_-]`, at most 128 characters in all.
    public init(prefix: String = Topology.defaultPrefix) throws(Refusal) {
        try Topology.validate(prefix: prefix)
        self.prefix = prefix
    }

    /// Checks a prefix without building a topology.
    public static func validate(prefix: String) throws(Refusal) {
        let expected = "segments of 1 to \(Limits.prefixSegmentMaxLength) letters, digits, '_' or '-', separated by single dots (e.g. \"chat\" or \"staging.chat\")"
        if prefix.unicodeScalars.count > Limits.prefixMaxLength {
            throw Refusal(.prefixInvalid, "The prefix is \(prefix.unicodeScalars.count) characters long; at most \(Limits.prefixMaxLength) are allowed.")
        }
        let segments = prefix.split(separator: ".", omittingEmptySubsequences: false)
        for segment in segments {
            if segment.isEmpty {
                throw Refusal(.prefixInvalid, "The prefix \"\(prefix)\" has an empty segment; expected \(expected).")
            }
            if segment.unicodeScalars.count > Limits.prefixSegmentMaxLength {
                throw Refusal(.prefixInvalid, "The prefix segment \"\(segment)\" is longer than \(Limits.prefixSegmentMaxLength) characters.")
            }
            if let bad = segment.unicodeScalars.first(where: { !Validation.isSessionScalar($0) }) {
                throw Refusal(.prefixInvalid, "The prefix \"\(prefix)\" contains \(Validation.describe(bad)); expected \(expected).")
            }
        }
    }

    private func name(_ suffix: String) -> String { "\(prefix).\(suffix)" }

    /// The durable queue of login and logout requests.
    public var login: String { name("login") }
    /// The durable queue of posts from browsers.
    public var inbox: String { name("inbox") }
    /// The direct exchange people write through (`<prefix>.in`): bound to ``login`` and ``inbox``
    /// only, each with its queue's name as key. A person may write to this exchange and no other,
    /// not even the default one, which would reach every queue of the services (the broker
    /// checks a publish's exchange, never the queue it reaches).
    public var entry: String { name("in") }
    /// The topic exchange of accepted posts (keys `post.plain`, `post.pow`, `post.rpc`).
    public var posts: String { name("posts") }
    /// The topic exchange of every room event, keyed `room.<room id>` (``roomKey(_:)``).
    public var rooms: String { name("rooms") }
    /// The fanout exchange of the one room before rooms: no longer used; the services delete it
    /// at start-up so tab queues bound to it stop getting every room.
    public var legacyRoom: String { name("room") }
    /// One person's exchange `<prefix>.u.<login>` (fanout): each of their tab queues is bound
    /// to it, and it is bound to ``rooms`` once per room they belong to.
    public func person(_ login: String) -> String { name("u.\(login)") }
    /// A room's stream `<prefix>.stream.<room id>`: a stream queue bound to ``rooms`` with the
    /// room's key, which every member's tab reads at its own offset (one copy of each event,
    /// however many tabs). Only general has one, and only with `WARREN_GENERAL_STREAM=on`.
    public func roomStream(_ room: String) -> String { name("stream.\(room)") }
    /// General's stream (``roomStream(_:)``): the one a browser may read whoever they are.
    public var generalStream: String { roomStream(ChatRoom.general) }
    /// The routing key of a room's events on ``rooms``: `room.<id>`.
    public static func roomKey(_ room: String) -> String { "room.\(room)" }
    /// The binding key of the history queue on ``rooms``: every room.
    public static let historyBindingKey = "room.#"
    /// The durable queue the reverser consumes, bound to ``posts`` with ``reverserBindingKey``.
    public var botReverser: String { name("bot.reverser") }
    /// The durable queue of `!pow` jobs.
    public var powJobs: String { name("pow.jobs") }
    /// The durable queue of `!rpc` requests.
    public var powRPC: String { name("pow.rpc") }
    /// The durable queue the history writer consumes, bound to ``rooms`` (every room).
    public var history: String { name("history") }
    /// The durable queue of history requests (backfill by RPC).
    public var historyRPC: String { name("history.rpc") }
    /// The dead-letter exchange and queue for messages no consumer could handle.
    public var dead: String { name("dead") }
    /// The queue whose single active consumer is the cron leader (an election by the broker).
    public var cron: String { name("cron") }
    /// The queue that holds the latest tick the cron role posted (one message at most).
    public var cronLast: String { cron + ".last" }

    /// Header on `post.pow` / `post.rpc` messages that names the sender's tab queue, so the
    /// reverser can tell that tab when its proof fails. Never set on `post.plain`, which the room
    /// (every tab) receives.
    public static let replyQueueHeader = "x-warren-reply-queue"

    /// The binding key from ``posts`` to ``botReverser``: every post.
    public static let reverserBindingKey = "post.*"

    /// The start every queue of one user shares: `<prefix>.user.<login>.`.
    public func userQueuePrefix(login: String) -> String {
        name("user.\(login).")
    }

    /// One browser tab's queue: `<prefix>.user.<login>.<session>`.
    ///
    /// The parts are not checked here; validate them with ``Validation`` first.
    public func userQueue(login: String, session: String) -> String {
        userQueuePrefix(login: login) + session
    }

    /// A person's online queue `<prefix>.user.<login>.online`: nothing is ever routed to it;
    /// each signed-in tab of theirs subscribes to it, so its consumer count is the number of
    /// their tabs connected now, and the broker drops a tab's consumer when its socket closes.
    /// `online` is no session id (those are 22 characters or more), so no tab queue has this name.
    public func onlineQueue(login: String) -> String {
        userQueuePrefix(login: login) + Self.onlineQueueSuffix
    }

    /// The queue of the broker's consumer events (``brokerEvents``, keys ``consumerEventKeys``),
    /// single active consumer: the login service turns those of online queues into `online` events.
    public var consumerEvents: String { name("consumer.events") }
    /// The broker's event exchange (the `rabbitmq_event_exchange` plugin), in the vhost
    /// `event_exchange.vhost` names; it carries every vhost's events, each with a `vhost` header.
    public static let brokerEvents = "amq.rabbitmq.event"
    /// The keys ``consumerEvents`` is bound with on ``brokerEvents``.
    public static let consumerEventKeys = ["consumer.created", "consumer.deleted"]

    /// The last part of ``onlineQueue(login:)``.
    public static let onlineQueueSuffix = "online"

    /// The login and session of a user queue name, or nil if the name is not one.
    ///
    /// Session ids have no dots, so the last dot separates them even when the login has some.
    public func parseUserQueue(_ queue: String) -> (login: String, session: String)? {
        let start = name("user.")
        guard queue.hasPrefix(start) else { return nil }
        let rest = queue.dropFirst(start.count)
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        let login = String(rest[..<dot])
        let session = String(rest[rest.index(after: dot)...])
        guard (try? Validation.login(login)) != nil, (try? Validation.session(session)) != nil else { return nil }
        return (login, session)
    }
}
