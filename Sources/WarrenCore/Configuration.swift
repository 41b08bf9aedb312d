import Foundation

/// Every setting of a Warren process, checked.
///
/// Built by ``load(environment:envFile:)`` from the process environment, then a `.env` file,
/// then defaults (see ``ConfigurationKey``). Reading the file is the caller's job, so this type
/// does no I/O.
public struct WarrenConfiguration: Sendable, Hashable {
    /// `WARREN_AMQP_URL`: the broker for the services.
    public var amqpURL: String
    /// `WARREN_STOMP_URL`: the Web-STOMP endpoint browsers are told to use.
    public var stompURL: String
    /// `WARREN_QUEUE_TYPE`, resolved: quorum when `auto` and ``amqpURL`` lists several nodes.
    public var queueType: QueueType
    /// `WARREN_STOMP_VHOST`: the virtual host browsers connect to.
    public var stompVhost: String
    /// `WARREN_HTTP_PORT`: the web server's port (0 picks a free one).
    public var httpPort: Int
    /// `WARREN_HTTP_HOST`: the address the web server listens on.
    public var httpHost: String
    /// `WARREN_WEB_ROOT`: the folder of the page the web server serves.
    public var webRoot: String
    /// `WARREN_PREFIX`: the broker names.
    public var topology: Topology
    /// `WARREN_POW_BITS`: the proof-of-work difficulty.
    public var powBits: Int
    /// `WARREN_CRON_SCHEDULE`: when the cron service posts.
    public var cronSchedule: CronSchedule
    /// `WARREN_CRON_TEXT`: what the cron service posts.
    public var cronText: String
    /// `WARREN_CRON_ROOM`: the room the cron service posts to (a room id, `general` by default).
    public var cronRoom: String
    /// `WARREN_USER_QUEUE_TTL_MS`: how long an unused tab queue lives.
    public var userQueueTTLMs: Int
    /// `WARREN_USER_QUEUE_MAX_LENGTH`: how many messages a tab queue holds.
    public var userQueueMaxLength: Int
    /// `WARREN_RPC_TIMEOUT_MS`: how long the reverser waits for an RPC proof.
    public var rpcTimeoutMs: Int
    /// `WARREN_SESSION_MEMORY_MS`: how long the login service takes a tab queue it declared or
    /// saw to exist without asking the broker again (0 asks for every post).
    public var sessionMemoryMs: Int
    /// `WARREN_DATABASE_URL`: where the history service stores the room.
    public var databaseURL: String
    /// `WARREN_HISTORY`: whether the room is stored (and new tabs backfilled).
    public var history: HistoryMode
    /// `WARREN_HISTORY_BATCH`: the most events written in one transaction.
    public var historyBatch: Int
    /// `WARREN_HISTORY_FLUSH_MS`: how long a waiting event waits for its batch to fill.
    public var historyFlushMs: Int
    /// `WARREN_LOG_LEVEL`: the least severe level logged.
    public var logLevel: LogLevel
    /// `WARREN_AUTH_KEY`: the token signing key, decoded; nil when unset (see ``authKeyFile``).
    public var authKey: [UInt8]?
    /// `WARREN_AUTH_KEY_FILE`: where a generated signing key is kept when ``authKey`` is nil.
    public var authKeyFile: String
    /// `WARREN_BROKER_AUTH` (on by default): the login service refuses a login, logout or post
    /// whose broker-validated user id is missing or not the login it names. `off` lets any
    /// client that reaches the login queues speak for anyone: for development only.
    public var brokerAuth: Bool
    /// `WARREN_REGISTER_PER_ADDRESS`: registrations one client address may make a minute.
    public var registerPerAddress: Int
    /// `WARREN_REGISTER_PER_MINUTE`: registrations taken a minute from everyone together.
    public var registerPerMinute: Int
    /// `WARREN_HASH_THREADS`: the threads that hash passwords.
    public var hashThreads: HashThreads
    /// `WARREN_HASH_QUEUE`: password hashes that may wait for a thread before more are refused.
    public var hashQueue: Int
    /// `WARREN_HTTP_CONNECTIONS_PER_ADDRESS`: HTTP connections one client address may hold
    /// open at once; 0 sets no limit.
    public var httpConnectionsPerAddress: Int
    /// `WARREN_LOG_FORMAT`: text for people, JSON lines for collectors.
    public var logFormat: LogFormat
    /// `WARREN_METRICS_PORT`: where a role run alone serves `/metrics`, `/readyz` and `/healthz`.
    public var metricsPort: MetricsPort
    /// `WARREN_MGMT_URL`: the broker's management API (web role), or nil (`off`).
    public var mgmtURL: String? = nil
    /// `WARREN_ADMINS`: the logins that may see the operator's page.
    public var admins: [String] = []
    /// `WARREN_GENERAL_STREAM` (on by default): general's events go to one stream,
    /// ``Topology/generalStream``, which every tab reads, and no longer to each tab's queue;
    /// `off` puts a copy in every tab's queue, as before.
    public var generalStream = true
    /// `WARREN_GRPC_HOST`, `WARREN_GRPC_PORT`, `WARREN_POW_GRPC_PORT` and
    /// `WARREN_POW_GRPC_TARGETS`: where the gRPC servers listen and whom the reverser calls.
    public var grpc: GRPCSettings
    /// Where each value came from, by variable name, for a start-up log line.
    public var sources: [String: ConfigurationSource]
    /// `WARREN_*` variables that are not settings: probably typos. Worth a warning, not an error.
    public var unknownVariables: [String]

    /// The prefix of every broker name.
    public var prefix: String { topology.prefix }

    /// The entries of a comma-separated list of URLs (one URL is a list of one), trimmed, each
    /// node once: an entry naming the node of an earlier one (``nodeKey(_:)``) is left out, so
    /// `amqp://u:p@h/w,amqp://u:p@h:5672/w` is one node (and `WARREN_QUEUE_TYPE=auto` classic).
    public static func urlList(_ value: String) -> [String] {
        var seen: Set<String> = []
        return value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { seen.insert(nodeKey($0)).inserted }
    }

    /// What tells nodes apart in a URL list: the scheme and host (in lower case), the port (the
    /// scheme's default when none is given) and the path; the text itself when it is no URL.
    static func nodeKey(_ url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host else { return url }
        let defaults = ["amqp": 5672, "amqps": 5671, "ws": 80, "wss": 443]
        let port = parts.port ?? defaults[scheme]
        return "\(scheme)://\(host.lowercased()):\(port.map(String.init) ?? "")\(parts.percentEncodedPath)"
    }

    /// `WARREN_AMQP_URL`'s nodes, one URL each.
    public var amqpURLs: [String] { Self.urlList(self.amqpURL) }
    /// `WARREN_STOMP_URL`'s nodes, one URL each.
    public var stompURLs: [String] { Self.urlList(self.stompURL) }

    /// The configuration when nothing is set.
    public static let defaults = try! load(environment: [:], envFile: nil)

    /// Builds the configuration: the environment wins over the `.env` file, which wins over
    /// the defaults. An empty value counts as unset.
    /// - Parameters:
    ///   - environment: The process environment (`ProcessInfo.processInfo.environment`).
    ///   - envFile: The text of the `.env` file, or nil if there is none.
    /// - Throws: ``ConfigurationError`` listing every bad value and unreadable `.env` line.
    public static func load(environment: [String: String], envFile: String?) throws(ConfigurationError) -> WarrenConfiguration {
        let file = envFile.map(EnvFile.parse) ?? EnvFile(values: [:], lines: [:], issues: [])
        var reader = Reader(environment: environment, file: file)
        reader.issues = file.issues.map {
            ConfigurationIssue(variable: nil, value: nil, source: .envFile(line: $0.line), expected: $0.message)
        }

        let amqpURL = reader.url(.amqpURL, schemes: ["amqp", "amqps"])
        let stompURL = reader.url(.stompURL, schemes: ["ws", "wss"])
        let stompVhost = reader.nonEmpty(.stompVhost)
        let queueTypeSetting = reader.check(.queueType) { (value: String) -> QueueType?? in
            value.lowercased() == "auto" ? .some(nil) : QueueType(rawValue: value.lowercased()).map { .some($0) }
        }
        let httpPort = reader.integer(.httpPort, 0...65_535)
        let httpHost = reader.check(.httpHost) { $0.contains(where: \.isWhitespace) ? nil : $0 }
        let webRoot = reader.nonEmpty(.webRoot)
        let topology = reader.check(.prefix) { (value: String) throws(Refusal) -> Topology? in try Topology(prefix: value) }
        let powBits = reader.integer(.powBits, Limits.powMinBits...Limits.powMaxBits)
        let cronSchedule = reader.check(.cronSchedule) { (value: String) throws(CronParseError) -> CronSchedule? in try CronSchedule(parsing: value) }
        let cronText = reader.check(.cronText) { (value: String) throws(Refusal) -> String? in try Validation.text(value) }
        let cronRoom = reader.check(.cronRoom) { (value: String) throws(Refusal) -> String? in try Validation.roomID(value) }
        let ttl = reader.integer(.userQueueTTLMs, 1...2_147_483_647)
        let maxLength = reader.integer(.userQueueMaxLength, 1...2_147_483_647)
        let rpcTimeout = reader.integer(.rpcTimeoutMs, 1...2_147_483_647)
        let sessionMemory = reader.integer(.sessionMemoryMs, 0...3_600_000)
        let databaseURL = reader.check(.databaseURL) { (value: String) -> String? in
            guard let colon = value.firstIndex(of: ":"), colon != value.startIndex,
                value[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
                value.index(after: colon) != value.endIndex
            else { return nil }
            return value
        }
        let history = reader.check(.history) { HistoryMode(rawValue: $0.lowercased()) }
        let historyBatch = reader.integer(.historyBatch, 1...Limits.historyBatchMax)
        let historyFlushMs = reader.integer(.historyFlushMs, 1...60_000)
        let logLevel = reader.check(.logLevel) { LogLevel(rawValue: $0.lowercased()) }
        let authKey = reader.check(.authKey) { (value: String) -> [UInt8]?? in
            if value.isEmpty { return .some(nil) }
            guard let data = Data(base64Encoded: value), data.count >= 32 else { return nil }
            return .some(Array(data))
        }
        let authKeyFile = reader.nonEmpty(.authKeyFile)
        let brokerAuth = reader.check(.brokerAuth, Self.onOff)
        let generalStream = reader.check(.generalStream, Self.onOff)
        let registerPerAddress = reader.integer(.registerPerAddress, 1...1_000_000)
        let registerPerMinute = reader.integer(.registerPerMinute, 1...1_000_000)
        let hashThreads = reader.check(.hashThreads) { HashThreads($0) }
        let hashQueue = reader.integer(.hashQueue, 0...10_000)
        let httpConnectionsPerAddress = reader.integer(.httpConnectionsPerAddress, 0...1_000_000)
        let logFormat = reader.check(.logFormat) { LogFormat(rawValue: $0.lowercased()) }
        let metricsPort = reader.check(.metricsPort) { MetricsPort($0) }
        let mgmtURL = reader.check(.mgmtURL) { (value: String) -> String?? in
            if value.lowercased() == "off" { return .some(nil) }
            guard let url = URL(string: value), url.scheme?.lowercased() == "http", url.host?.isEmpty == false else { return nil }
            return .some(value)
        }
        let admins = reader.check(.admins) { Self.adminList($0) }
        let grpcHost = reader.check(.grpcHost) { $0.contains(where: \.isWhitespace) ? nil : $0 }
        let grpcPort = reader.check(.grpcPort) { MetricsPort($0) }
        let powGRPCPort = reader.check(.powGRPCPort) { MetricsPort($0) }
        let powGRPCTargets = reader.check(.powGRPCTargets) { HostPort.list($0) }

        guard reader.issues.isEmpty,
            let amqpURL, let stompURL, let queueTypeSetting, let stompVhost, let httpPort,
            let httpHost, let webRoot, let topology, let powBits, let cronSchedule, let cronText, let cronRoom, let ttl, let maxLength,
            let rpcTimeout, let sessionMemory, let databaseURL, let history, let historyBatch, let historyFlushMs, let logLevel,
            let authKey, let authKeyFile, let brokerAuth, let generalStream, let registerPerAddress, let registerPerMinute, let hashThreads,
            let hashQueue, let httpConnectionsPerAddress, let logFormat, let metricsPort, let mgmtURL, let admins,
            let grpcHost, let grpcPort, let powGRPCPort, let powGRPCTargets
        else {
            throw ConfigurationError(issues: reader.issues)
        }

        let known = Set(ConfigurationKey.allCases.map(\.rawValue))
        let unknown = Set(environment.keys).union(file.values.keys).filter { $0.hasPrefix("WARREN_") && !known.contains($0) }
        var configuration = WarrenConfiguration(
            amqpURL: amqpURL, stompURL: stompURL,
            queueType: queueTypeSetting ?? (urlList(amqpURL).count > 1 ? .quorum : .classic),
            stompVhost: stompVhost, httpPort: httpPort, httpHost: httpHost, webRoot: webRoot, topology: topology, powBits: powBits,
            cronSchedule: cronSchedule, cronText: cronText, cronRoom: cronRoom, userQueueTTLMs: ttl, userQueueMaxLength: maxLength,
            rpcTimeoutMs: rpcTimeout, sessionMemoryMs: sessionMemory, databaseURL: databaseURL, history: history, historyBatch: historyBatch,
            historyFlushMs: historyFlushMs, logLevel: logLevel,
            authKey: authKey, authKeyFile: authKeyFile, brokerAuth: brokerAuth,
            registerPerAddress: registerPerAddress, registerPerMinute: registerPerMinute, hashThreads: hashThreads,
            hashQueue: hashQueue, httpConnectionsPerAddress: httpConnectionsPerAddress, logFormat: logFormat, metricsPort: metricsPort,
            grpc: GRPCSettings(host: grpcHost, chatPort: grpcPort, powPort: powGRPCPort, powTargets: powGRPCTargets),
            sources: reader.sources,
            unknownVariables: unknown.sorted()
        )
        configuration.mgmtURL = mgmtURL
        configuration.admins = admins
        configuration.generalStream = generalStream
        return configuration
    }

    /// A switch: on, true, 1 or yes; off, false, 0 or no (any case); nil for anything else.
    static func onOff(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "on", "true", "1", "yes": true
        case "off", "false", "0", "no": false
        default: nil
        }
    }

    /// `WARREN_ADMINS`: logins separated by commas (spaces around them ignored); nil when one is
    /// not a login name.
    static func adminList(_ value: String) -> [String]? {
        var logins: [String] = []
        for part in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard (try? Validation.login(part)) != nil else { return nil }
            if !logins.contains(part) { logins.append(part) }
        }
        return logins
    }

    /// Picks each value from the right source and records what is wrong with it.
    private struct Reader {
        let environment: [String: String]
        let file: EnvFile
        var issues: [ConfigurationIssue] = []
        var sources: [String: ConfigurationSource] = [:]

        init(environment: [String: String], file: EnvFile) {
            self.environment = environment
            self.file = file
        }

        mutating func raw(_ key: ConfigurationKey) -> (String, ConfigurationSource) {
            let source: (String, ConfigurationSource)
            if let value = environment[key.rawValue], !value.isEmpty {
                source = (value, .environment)
            } else if let value = file.values[key.rawValue], !value.isEmpty {
                source = (value, .envFile(line: file.lines[key.rawValue] ?? 0))
            } else {
                source = (key.defaultValue, .defaultValue)
            }
            sources[key.rawValue] = source.1
            return source
        }

        /// Reads a value and converts it, recording an issue when `convert` returns nil or throws.
        mutating func check<Value, Failure: Error>(
            _ key: ConfigurationKey, _ convert: (String) throws(Failure) -> Value?
        ) -> Value? {
            let (given, source) = raw(key)
            let value = Reader.hidingPassword(given)
            do {
                if let converted = try convert(given) { return converted }
                issues.append(ConfigurationIssue(variable: key.rawValue, value: key.isSecret ? "(hidden)" : value, source: source, expected: key.expected))
            } catch {
                let detail = (error as? CronParseError).map { "; \($0.description)" }
                    ?? (error as? Refusal).map { "; \($0.message)" } ?? ""
                issues.append(ConfigurationIssue(variable: key.rawValue, value: key.isSecret ? "(hidden)" : value, source: source, expected: key.expected + detail))
            }
            return nil
        }

        /// A URL's password becomes `***`, so a refused value can be shown in messages and logs.
        static func hidingPassword(_ value: String) -> String {
            // A list of URLs (a cluster's nodes): each one's password.
            if value.contains(",") { return WarrenConfiguration.urlList(value).map(hidingPassword).joined(separator: ",") }
            guard var components = URLComponents(string: value), components.password != nil else { return value }
            components.password = "***"
            return components.string ?? value
        }

        mutating func nonEmpty(_ key: ConfigurationKey) -> String? {
            check(key) { $0 }
        }

        mutating func integer(_ key: ConfigurationKey, _ range: ClosedRange<Int>) -> Int? {
            check(key) { (value: String) -> Int? in
                guard value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                    let number = Int(value), range.contains(number)
                else { return nil }
                return number
            }
        }

        /// One URL, or a comma-separated list of them (the nodes of a cluster), each with a host.
        mutating func url(_ key: ConfigurationKey, schemes: Set<String>) -> String? {
            check(key) { (value: String) -> String? in
                let valid = WarrenConfiguration.urlList(value).allSatisfy { part in
                    guard let url = URL(string: part), let scheme = url.scheme?.lowercased(), schemes.contains(scheme),
                        let host = url.host, !host.isEmpty
                    else { return false }
                    return true
                }
                return valid ? value : nil
            }
        }
    }
}
