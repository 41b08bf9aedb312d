import WarrenCore

/// What `GET /api/ops` answers: the picture of the deployment an operator's page shows.
///
/// Made by ``OpsWatcher`` from the broker's management API; every list is bounded (the roles and
/// shared queues of ``SharedQueues``, at most ``OpsWatcher/deadLettersShown`` dead letters) and
/// no tab's queue or person's name is in it but inside a dead letter's payload.
public struct OpsOverview: Encodable, Sendable {
    var ok = true
    /// Whether the management API answered the latest questions, and if not, why.
    var management: Management
    /// Seconds since the queue figures were read (they are at most ``OpsWatcher/maxAge`` old
    /// while the management API answers).
    var ageSeconds: Double?
    /// Each back-end role and how many of it consume (instances), from its queues' consumers.
    var roles: [Role]
    /// The shared queues.
    var queues: [Queue]
    /// Tab queues on the broker: tabs signed in (a tab's queue lives until logout, or its TTL
    /// once unused).
    var tabs: Int?
    /// The dead-letter queue.
    var deadLetters: DeadLetters

    struct Management: Encodable, Sendable {
        var ok: Bool
        var error: String?
    }

    struct Role: Encodable, Sendable, Equatable {
        var role: String
        /// The most consumers on any of its queues: one per running instance.
        var instances: Int
        var queues: [String]
    }

    struct Queue: Encodable, Sendable, Equatable {
        /// The name without the prefix (`inbox`, `bot.reverser`, ...).
        var queue: String
        var messages: Int
        var ready: Int
        var unacked: Int
        var consumers: Int
        /// Messages a second published to it and delivered from it (the broker's last sample).
        var publishRate: Double
        var deliverRate: Double
    }

    struct DeadLetters: Encodable, Sendable {
        /// Messages in the dead-letter queue.
        var waiting: Int
        /// The newest of the first ``OpsWatcher/deadLetterScan`` waiting, newest first.
        var shown: [DeadLetter]
    }

    struct DeadLetter: Encodable, Sendable, Equatable {
        /// The queue it was dead-lettered from, without the prefix.
        var queue: String?
        /// The broker's reason: `rejected` (a role could not handle it), `delivery_limit`
        /// (delivered too often: a poison message), `expired`, `maxlen`.
        var reason: String?
        /// When, in seconds since 1970 (the broker's `x-death` time).
        var time: Int?
        var routingKey: String?
        /// How often it died there.
        var count: Int?
        /// The start of its body (at most ``OpsWatcher/payloadCharacters`` characters).
        var payload: String
    }
}

/// The shared queues and the roles that consume them: one list, so the page, the metric labels
/// and the roles' names agree (the names are ``Topology``'s).
public enum SharedQueues {
    /// `(role, [queues])` with the queues' full names; the dead-letter queue and the cron record
    /// belong to nobody (no role consumes them) and come after.
    static func roles(_ topology: Topology) -> [(role: String, queues: [String])] {
        [
            ("login", [topology.login, topology.inbox]),
            ("reverser", [topology.botReverser]),
            ("pow-worker", [topology.powJobs, topology.powRPC]),
            ("history", [topology.history, topology.historyRPC]),
            ("cron", [topology.cron]),
        ]
    }

    /// Every shared queue's full name: the roles', the cron record and the dead letters.
    static func all(_ topology: Topology) -> [String] {
        roles(topology).flatMap(\.queues) + [topology.cronLast, topology.dead]
    }

    /// The label of a queue: its name without `<prefix>.`.
    static func label(_ queue: String, _ topology: Topology) -> String {
        queue.hasPrefix(topology.prefix + ".") ? String(queue.dropFirst(topology.prefix.count + 1)) : queue
    }
}
