/// Every environment variable Warren reads, with its default and what it expects.
public enum ConfigurationKey: String, CaseIterable, Sendable {
    /// The broker for the services.
    case amqpURL = "WARREN_AMQP_URL"
    /// The Web-STOMP endpoint browsers are told to use.
    case stompURL = "WARREN_STOMP_URL"
    /// The virtual host browsers connect to.
    case stompVhost = "WARREN_STOMP_VHOST"
    /// The web server's port.
    case httpPort = "WARREN_HTTP_PORT"
    /// The address the web server listens on.
    case httpHost = "WARREN_HTTP_HOST"
    /// The folder of the page the web server serves.
    case webRoot = "WARREN_WEB_ROOT"
    /// The prefix of every broker name.
    case prefix = "WARREN_PREFIX"
    /// The proof-of-work difficulty.
    case powBits = "WARREN_POW_BITS"
    /// When the cron service posts.
    case cronSchedule = "WARREN_CRON_SCHEDULE"
    /// What the cron service posts.
    case cronText = "WARREN_CRON_TEXT"
    /// The room the cron service posts to.
    case cronRoom = "WARREN_CRON_ROOM"
    /// How long an unused tab queue lives (x-expires).
    case userQueueTTLMs = "WARREN_USER_QUEUE_TTL_MS"
    /// How many messages a tab queue holds (x-max-length).
    case userQueueMaxLength = "WARREN_USER_QUEUE_MAX_LENGTH"
    /// How long the reverser waits for an RPC proof.
    case rpcTimeoutMs = "WARREN_RPC_TIMEOUT_MS"
    /// How long the login service trusts a tab queue it declared or saw, without asking again.
    case sessionMemoryMs = "WARREN_SESSION_MEMORY_MS"
    /// Where the history service stores the room.
    case databaseURL = "WARREN_DATABASE_URL"
    /// Whether the room is stored: `store` or `none`.
    case history = "WARREN_HISTORY"
    /// How many events the history role writes in one transaction at most.
    case historyBatch = "WARREN_HISTORY_BATCH"
    /// How long the first waiting event waits for its batch to fill before it is written anyway.
    case historyFlushMs = "WARREN_HISTORY_FLUSH_MS"
    /// The least severe log level written.
    case logLevel = "WARREN_LOG_LEVEL"
    /// The key that signs access and refresh tokens (base64, at least 32 bytes); a secret.
    case authKey = "WARREN_AUTH_KEY"
    /// Where the signing key is kept when WARREN_AUTH_KEY is unset (made on first use, mode 600).
    case authKeyFile = "WARREN_AUTH_KEY_FILE"
    /// The type of the shared durable queues: `auto` (quorum with several broker addresses,
    /// else classic), `classic` or `quorum`.
    case queueType = "WARREN_QUEUE_TYPE"
    /// Whether the login service checks that the broker vouches for each request's author
    /// (`user_id`); on by default, `off` only for development clients that send no user id.
    case brokerAuth = "WARREN_BROKER_AUTH"
    /// Whether the room everyone belongs to, general, reaches tabs through one stream that every
    /// tab reads (`on`) instead of a copy in each tab's queue (`off`, the default).
    case generalStream = "WARREN_GENERAL_STREAM"
    /// How many registrations one client address may make a minute.
    case registerPerAddress = "WARREN_REGISTER_PER_ADDRESS"
    /// How many registrations the web role takes a minute from everyone together.
    case registerPerMinute = "WARREN_REGISTER_PER_MINUTE"
    /// The threads that hash passwords: `auto`, a number, or `off` (no pool of its own).
    case hashThreads = "WARREN_HASH_THREADS"
    /// How many password hashes may wait for a thread before more are refused.
    case hashQueue = "WARREN_HASH_QUEUE"
    /// How many HTTP connections one client address may hold open at once (0: no limit).
    case httpConnectionsPerAddress = "WARREN_HTTP_CONNECTIONS_PER_ADDRESS"
    /// How log lines are written: `text` or `json`.
    case logFormat = "WARREN_LOG_FORMAT"
    /// Where a role run alone serves its metrics and health: `off` or a port.
    case metricsPort = "WARREN_METRICS_PORT"
    /// The broker's management API, which the web role asks for the operator's page and the
    /// queue depths.
    case mgmtURL = "WARREN_MGMT_URL"
    /// The logins allowed to see the operator's page (comma-separated).
    case admins = "WARREN_ADMINS"
    /// The address the gRPC servers listen on (the web role's chat, the PoW worker's solver).
    case grpcHost = "WARREN_GRPC_HOST"
    /// The web role's `warren.v1.Chat` port: `off` or a port.
    case grpcPort = "WARREN_GRPC_PORT"
    /// The PoW worker's `warren.v1.ProofOfWork` port: `off` or a port.
    case powGRPCPort = "WARREN_POW_GRPC_PORT"
    /// The PoW workers the reverser calls for `!grpc` posts: `host:port`, comma-separated.
    case powGRPCTargets = "WARREN_POW_GRPC_TARGETS"

    /// The value used when neither the environment nor `.env` sets one; works with
    /// `scripts/run` on one machine.
    public var defaultValue: String {
        switch self {
        case .amqpURL: "amqp://warren:warren@127.0.0.1:5672/warren"
        case .stompURL: "ws://127.0.0.1:15674/ws"
        case .stompVhost: "warren"
        case .httpPort: "8080"
        case .httpHost: "127.0.0.1"
        case .webRoot: "web"
        case .prefix: Topology.defaultPrefix
        case .powBits: "24"
        case .cronSchedule: "* * * * *"
        case .cronText: "Hello world!"
        case .cronRoom: "general"
        case .userQueueTTLMs: String(Limits.userQueueDefaultTTLMs)
        case .userQueueMaxLength: String(Limits.userQueueDefaultMaxLength)
        case .rpcTimeoutMs: "30000"
        case .sessionMemoryMs: "30000"
        case .databaseURL: "sqlite:.warren/warren.sqlite"
        case .history: HistoryMode.store.rawValue
        case .historyBatch: "200"
        case .historyFlushMs: "200"
        case .logLevel: LogLevel.info.rawValue
        case .authKey: ""
        case .authKeyFile: ".warren/auth.key"
        case .brokerAuth: "on"
        case .generalStream: "on"
        case .queueType: "auto"
        case .registerPerAddress: "5"
        case .registerPerMinute: "60"
        case .hashThreads: "auto"
        case .hashQueue: "16"
        case .httpConnectionsPerAddress: "64"
        case .logFormat: "text"
        case .metricsPort: "off"
        case .mgmtURL: "http://127.0.0.1:15672"
        case .admins: ""
        case .grpcHost: "127.0.0.1"
        case .grpcPort: "50051"
        case .powGRPCPort: "50052"
        case .powGRPCTargets: "127.0.0.1:50052"
        }
    }

    /// What a valid value looks like, for error messages.
    public var expected: String {
        switch self {
        case .amqpURL: "an amqp:// or amqps:// URL with a host, such as \(defaultValue), or a comma-separated list of them (the nodes of a cluster, same user, password and vhost)"
        case .stompURL: "a ws:// or wss:// URL with a host, such as \(defaultValue), or a comma-separated list of them (the nodes of a cluster)"
        case .stompVhost, .webRoot: "a non-empty string"
        case .httpPort: "a port number from 0 to 65535 (0 picks a free port)"
        case .httpHost: "a host name or IP address without spaces, such as 127.0.0.1 or 0.0.0.0"
        case .prefix: "dot-separated segments of 1 to 64 letters, digits, '_' or '-', such as chat"
        case .powBits: "a whole number from \(Limits.powMinBits) to \(Limits.powMaxBits)"
        case .cronSchedule: "a 5-field cron expression (minute hour day-of-month month day-of-week), a shortcut such as @hourly, or @every <n>s|m|h"
        case .cronText: "1 to \(Limits.textMaxCharacters) characters with no control characters but newline"
        case .cronRoom: "a room id: a room's name in lowercase (1 to \(SharedRules.roomNameMaxLength) of A-Z a-z 0-9 _ . -), such as general"
        case .userQueueTTLMs, .rpcTimeoutMs: "a whole number of milliseconds from 1 to 2147483647"
        case .userQueueMaxLength: "a whole number from 1 to 2147483647"
        case .databaseURL: "a URL with a scheme, such as sqlite:.warren/warren.sqlite or postgres://user@host/db"
        case .history: "one of " + HistoryMode.allCases.map(\.rawValue).joined(separator: ", ")
        case .historyBatch: "a whole number from 1 to \(Limits.historyBatchMax)"
        case .historyFlushMs: "a whole number of milliseconds from 1 to 60000"
        case .sessionMemoryMs: "a whole number of milliseconds from 0 (ask the broker for every post) to 3600000"
        case .logLevel: "one of " + LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
        case .authKey: "a base64 key of at least 32 bytes (e.g. `head -c 32 /dev/urandom | base64`), or unset to keep one in WARREN_AUTH_KEY_FILE"
        case .authKeyFile: "a file path"
        case .brokerAuth, .generalStream: "on or off"
        case .queueType: "auto, classic or quorum"
        case .registerPerAddress, .registerPerMinute: "a whole number from 1 to 1000000 (registrations a minute)"
        case .hashThreads: "auto (half the cores, at least 1), a whole number from 1 to 64, or off (hash on Dispatch's shared threads without a bound: for comparison only)"
        case .hashQueue: "a whole number from 0 to 10000"
        case .httpConnectionsPerAddress: "a whole number from 0 (no limit) to 1000000"
        case .logFormat: "one of " + LogFormat.allCases.map(\.rawValue).joined(separator: ", ")
        case .metricsPort, .grpcPort, .powGRPCPort: "off, or a port number from 0 to 65535 (0 picks a free port)"
        case .mgmtURL: "an http:// URL of the management API, such as \(defaultValue), or off; without a user in it the user and password of WARREN_AMQP_URL are used"
        case .admins: "a comma-separated list of login names (letters, digits, '_', '.', '-'), or empty for none"
        case .grpcHost: "a host name or IP address without spaces, such as 127.0.0.1 or 0.0.0.0"
        case .powGRPCTargets: "host:port, or a comma-separated list of them (1 to 64), such as 127.0.0.1:50052"
        }
    }

    /// True for a secret, whose value never appears in an error message.
    public var isSecret: Bool {
        self == .authKey
    }
}

/// The type of the shared durable queues (`WARREN_QUEUE_TYPE`, resolved: `auto` is not one).
public enum QueueType: String, CaseIterable, Sendable, Hashable {
    /// RabbitMQ's classic queue: on one node.
    case classic
    /// A quorum queue: replicated over the cluster's nodes (Raft), survives a node's loss.
    case quorum
}

/// The threads that hash passwords (`WARREN_HASH_THREADS`).
public enum HashThreads: Sendable, Hashable {
    /// Half the cores, at least one.
    case auto
    /// This many threads.
    case count(Int)
    /// No pool of its own: every hash goes to Dispatch's shared threads, without a bound. For
    /// measuring what the pool is worth, not for use.
    case off

    /// Reads `auto`, `off` or a number from 1 to 64.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "auto": self = .auto
        case "off": self = .off
        default:
            guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let count = Int(text),
                (1...64).contains(count)
            else { return nil }
            self = .count(count)
        }
    }
}

/// Whether the room is remembered (`WARREN_HISTORY`).
public enum HistoryMode: String, CaseIterable, Sendable, Hashable {
    /// Nothing is stored; new tabs get no backfill.
    case none
    /// The history role writes the room to the store and answers history requests.
    case store
}

/// How much Warren logs; the names are swift-log's levels.
public enum LogLevel: String, CaseIterable, Sendable, Hashable {
    /// Everything.
    case trace
    /// Detail useful when chasing a problem.
    case debug
    /// Normal operation.
    case info
    /// Normal but significant.
    case notice
    /// Something unexpected that Warren survives.
    case warning
    /// A failure of one operation.
    case error
    /// A failure of the whole process.
    case critical
}

/// Where a configuration value came from.
public enum ConfigurationSource: Sendable, Hashable, CustomStringConvertible {
    /// The process environment.
    case environment
    /// The `.env` file, at this line.
    case envFile(line: Int)
    /// The built-in default.
    case defaultValue

    /// Words for messages: "the environment", ".env line 3", "the default".
    public var description: String {
        switch self {
        case .environment: "the environment"
        case .envFile(let line): ".env line \(line)"
        case .defaultValue: "the default"
        }
    }
}

/// One problem with the configuration.
public struct ConfigurationIssue: Sendable, Hashable, CustomStringConvertible {
    /// The variable at fault, or nil for a `.env` line that could not be read.
    public var variable: String?
    /// The value given.
    public var value: String?
    /// Where the value came from.
    public var source: ConfigurationSource
    /// What was expected, or what is wrong with the line.
    public var expected: String

    /// Creates an issue.
    public init(variable: String?, value: String?, source: ConfigurationSource, expected: String) {
        self.variable = variable
        self.value = value
        self.source = source
        self.expected = expected
    }

    /// `WARREN_POW_BITS="65" (from .env line 4): expected a whole number from 1 to 64`.
    public var description: String {
        guard let variable else { return "\(source): \(expected)" }
        let shown = value.map { "=\"\($0)\"" } ?? ""
        return "\(variable)\(shown) (from \(source)): expected \(expected)"
    }
}

/// Everything wrong with the configuration, collected rather than stopping at the first.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in variable order, `.env` syntax problems first.
    public var issues: [ConfigurationIssue]

    /// Creates an error.
    public init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// One line per problem.
    public var description: String {
        "Warren's configuration has \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n"
            + issues.map { "  " + $0.description }.joined(separator: "\n")
    }
}
