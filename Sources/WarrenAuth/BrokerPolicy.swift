import WarrenCore

/// What RabbitMQ's HTTP auth backend asks about: a queue or an exchange.
public enum BrokerResource: String, Sendable, Hashable {
    /// A queue.
    case queue
    /// An exchange.
    case exchange
}

/// What the user wants to do with a resource (RabbitMQ's permission kinds).
public enum BrokerPermission: String, Sendable, Hashable {
    /// Declare or delete.
    case configure
    /// Publish to an exchange, or bind to a queue.
    case write
    /// Consume from a queue, or bind from an exchange.
    case read
}

/// The broker rights of a signed-in person, decided without I/O.
///
/// A person may configure and read the server-named reply queues a `/temp-queue/` makes
/// (`amq.gen-*`), read their own tab queues (`<prefix>.user.<name>.<session>`) and online queue
/// (`<prefix>.user.<name>.online`, which carries no messages) and general's stream
/// (`<prefix>.stream.general`: everyone belongs to general), and write to the exchange
/// `<prefix>.in`, which reaches the login and inbox queues only; nothing else. Not the default
/// exchange: the broker checks a publish's exchange only, and the default one reaches every
/// queue (the history requests, the jobs, the history itself). Topic checks (which only topic
/// exchanges make) are always denied.
public struct BrokerPolicy: Sendable, Hashable {
    /// The broker names of the deployment.
    public let topology: Topology
    /// The only virtual host browsers may use.
    public let vhost: String

    /// The start of every server-named queue.
    public static let serverNamedQueuePrefix = "amq.gen-"

    /// Creates a policy.
    public init(topology: Topology, vhost: String) {
        self.topology = topology
        self.vhost = vhost
    }

    /// May `user` use `vhost`?
    public func allowsVhost(user: String, vhost: String) -> Bool {
        vhost == self.vhost && Self.isLogin(user)
    }

    /// May `user` act on a resource?
    public func allowsResource(
        user: String, vhost: String, resource: BrokerResource, name: String, permission: BrokerPermission
    ) -> Bool {
        guard allowsVhost(user: user, vhost: vhost) else { return false }
        switch (resource, permission) {
        case (.queue, .configure):
            return Self.isServerNamed(name)
        case (.queue, .read):
            return Self.isServerNamed(name) || isOwnTabQueue(name, of: user) || name == topology.onlineQueue(login: user)
                || name == topology.generalStream
        case (.queue, .write):
            // The queue check is for bindings (a publish is checked on its exchange), which
            // need read on a source exchange the user never has.
            return name == topology.login || name == topology.inbox
        case (.exchange, .write):
            return name == topology.entry
        case (.exchange, .configure), (.exchange, .read):
            return false
        }
    }

    /// Topic permission checks: always denied (browsers use no topic exchange).
    public func allowsTopic() -> Bool { false }

    /// `<prefix>.user.<user>.<session>` with a valid session id, so `alice` cannot read
    /// `chat.user.alice.x.<session>`, a queue of the user `alice.x`.
    func isOwnTabQueue(_ name: String, of user: String) -> Bool {
        let start = topology.userQueuePrefix(login: user)
        guard name.hasPrefix(start) else { return false }
        return (try? Validation.session(String(name.dropFirst(start.count)))) != nil
    }

    static func isServerNamed(_ name: String) -> Bool {
        name.hasPrefix(serverNamedQueuePrefix) && name.count > serverNamedQueuePrefix.count
    }

    static func isLogin(_ user: String) -> Bool {
        (try? Validation.login(user)) != nil
    }
}
