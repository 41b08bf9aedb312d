import Foundation
import Testing
@testable import WarrenCore

@Suite("Configuration")
struct ConfigurationTests {
    @Test("defaults when nothing is set")
    func defaults() throws {
        let configuration = try WarrenConfiguration.load(environment: [:], envFile: nil)
        #expect(configuration.amqpURL == "amqp://warren:warren@127.0.0.1:5672/warren")
        #expect(configuration.stompURL == "ws://127.0.0.1:15674/ws")
        #expect(configuration.stompVhost == "warren")
        #expect(configuration.httpPort == 8080)
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.prefix == "chat")
        #expect(configuration.topology.rooms == "chat.rooms")
        #expect(configuration.cronRoom == ChatRoom.general)
        #expect(configuration.powBits == 24)
        #expect(configuration.cronSchedule == CronSchedule.everyMinute)
        #expect(configuration.cronText == "Hello world!")
        #expect(configuration.userQueueTTLMs == 1_800_000)
        #expect(configuration.userQueueMaxLength == 1_000)
        #expect(configuration.rpcTimeoutMs == 30_000)
        #expect(configuration.sessionMemoryMs == 30_000)
        #expect(configuration.databaseURL == "sqlite:.warren/warren.sqlite")
        #expect(configuration.history == .store)
        #expect(configuration.historyBatch == 200)
        #expect(configuration.historyFlushMs == 200)
        #expect(configuration.logLevel == .info)
        #expect(configuration.brokerAuth, "the login service checks user ids unless told not to")
        #expect(configuration.sources["WARREN_HTTP_PORT"] == .defaultValue)
        #expect(configuration.unknownVariables.isEmpty)
        #expect(WarrenConfiguration.defaults == configuration)
    }

    @Test("a cluster: comma lists of URLs, and quorum queues by default with several nodes")
    func cluster() throws {
        let one = try WarrenConfiguration.load(environment: [:], envFile: nil)
        #expect(one.queueType == .classic)
        #expect(one.amqpURLs == ["amqp://warren:warren@127.0.0.1:5672/warren"])
        let urls = "amqp://u:p@127.0.0.1:5701/w, amqp://u:p@127.0.0.1:5702/w"
        let three = try WarrenConfiguration.load(
            environment: ["WARREN_AMQP_URL": urls, "WARREN_STOMP_URL": "ws://a:1/ws,ws://b:2/ws"], envFile: nil
        )
        #expect(three.queueType == .quorum)
        #expect(three.amqpURLs == ["amqp://u:p@127.0.0.1:5701/w", "amqp://u:p@127.0.0.1:5702/w"])
        #expect(three.stompURLs == ["ws://a:1/ws", "ws://b:2/ws"])
        // compose.yaml without its cluster profile: the three entries name one node.
        let node = "amqp://u:p@rabbitmq:5672/w"
        let same = try WarrenConfiguration.load(
            environment: ["WARREN_AMQP_URL": "\(node),\(node), amqp://u:p@RabbitMQ/w", "WARREN_STOMP_URL": "ws://a:1/ws,ws://a:1/ws"], envFile: nil
        )
        #expect(same.queueType == .classic)
        #expect(same.amqpURLs == [node])
        #expect(same.stompURLs == ["ws://a:1/ws"])
        #expect(WarrenConfiguration.urlList("amqp://h:1/w,amqp://h:2/w,amqps://h:1/w,amqp://h:1/v,amqp://h:1/w").count == 4)
        let classic = try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": urls, "WARREN_QUEUE_TYPE": "classic"], envFile: nil)
        #expect(classic.queueType == .classic)
        let quorum = try WarrenConfiguration.load(environment: ["WARREN_QUEUE_TYPE": "QUORUM"], envFile: nil)
        #expect(quorum.queueType == .quorum)
        #expect(throws: ConfigurationError.self) { try WarrenConfiguration.load(environment: ["WARREN_QUEUE_TYPE": "stream"], envFile: nil) }
        #expect(throws: ConfigurationError.self) {
            try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": "amqp://u:p@h:1/w,,amqp://u:p@h:2/w"], envFile: nil)
        }
        do {
            _ = try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": "amqp://u:secret@h:1/w,nonsense"], envFile: nil)
            Issue.record("a bad second URL was taken")
        } catch {
            #expect(!"\(error)".contains("secret"))
        }
    }

    @Test("every default is itself valid")
    func defaultsValid() throws {
        let environment = Dictionary(uniqueKeysWithValues: ConfigurationKey.allCases.map { ($0.rawValue, $0.defaultValue) })
        var configuration = try WarrenConfiguration.load(environment: environment, envFile: nil)
        // An empty value counts as unset, so a setting whose default is "nothing" (WARREN_AUTH_KEY, WARREN_ADMINS)
        // still reports the default as its source.
        let explicit = configuration.sources.filter { ConfigurationKey(rawValue: $0.key)?.defaultValue.isEmpty == false }
        #expect(explicit.count == ConfigurationKey.allCases.filter { !$0.defaultValue.isEmpty }.count)
        #expect(explicit.values.allSatisfy { $0 == .environment })
        configuration.sources = WarrenConfiguration.defaults.sources
        #expect(configuration == WarrenConfiguration.defaults)
    }

    @Test("the environment wins over .env, which wins over defaults")
    func precedence() throws {
        let file = """
            WARREN_HTTP_PORT=9090
            WARREN_PREFIX=fromfile
            WARREN_CRON_TEXT="Hi\\nthere"
            """
        let configuration = try WarrenConfiguration.load(
            environment: ["WARREN_HTTP_PORT": "7070", "WARREN_POW_BITS": "12", "PATH": "/usr/bin"],
            envFile: file
        )
        #expect(configuration.httpPort == 7070)
        #expect(configuration.powBits == 12)
        #expect(configuration.prefix == "fromfile")
        #expect(configuration.cronText == "Hi\nthere")
        #expect(configuration.logLevel == .info)
        #expect(configuration.sources["WARREN_HTTP_PORT"] == .environment)
        #expect(configuration.sources["WARREN_PREFIX"] == .envFile(line: 2))
        #expect(configuration.sources["WARREN_LOG_LEVEL"] == .defaultValue)
    }

    @Test("an empty value counts as unset")
    func emptyIsUnset() throws {
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_HTTP_PORT": ""], envFile: "WARREN_HTTP_PORT=9090")
        #expect(configuration.httpPort == 9090)
    }

    @Test("parsed values: schedules, log levels, @every")
    func parsedValues() throws {
        let configuration = try WarrenConfiguration.load(
            environment: ["WARREN_CRON_SCHEDULE": "@every 1s", "WARREN_LOG_LEVEL": "DEBUG", "WARREN_HTTP_PORT": "0"],
            envFile: nil
        )
        #expect(configuration.cronSchedule.intervalSeconds == 1)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.httpPort == 0)
    }

    @Test("bad values are reported with the variable, the value and what is expected", arguments: [
        ("WARREN_HTTP_PORT", "eighty"), ("WARREN_HTTP_PORT", "65536"), ("WARREN_HTTP_PORT", "-1"),
        ("WARREN_POW_BITS", "0"), ("WARREN_POW_BITS", "65"), ("WARREN_POW_BITS", "1.5"),
        ("WARREN_CRON_SCHEDULE", "61 * * * *"), ("WARREN_PREFIX", "bad prefix"),
        ("WARREN_AMQP_URL", "http://localhost"), ("WARREN_AMQP_URL", "not a url"), ("WARREN_STOMP_URL", "amqp://x"),
        ("WARREN_USER_QUEUE_TTL_MS", "0"), ("WARREN_USER_QUEUE_MAX_LENGTH", "lots"), ("WARREN_RPC_TIMEOUT_MS", "1e3"),
        ("WARREN_DATABASE_URL", "nowhere"), ("WARREN_LOG_LEVEL", "loud"), ("WARREN_CRON_TEXT", "bell\u{7}"),
        ("WARREN_HTTP_HOST", "local host"), ("WARREN_HISTORY", "db"), ("WARREN_HISTORY_BATCH", "0"),
        ("WARREN_HISTORY_BATCH", "10001"), ("WARREN_HISTORY_FLUSH_MS", "0"),
        ("WARREN_SESSION_MEMORY_MS", "-1"), ("WARREN_SESSION_MEMORY_MS", "3600001"),
    ] as [(String, String)])
    func badValue(variable: String, value: String) {
        do {
            _ = try WarrenConfiguration.load(environment: [variable: value], envFile: nil)
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.issues.count == 1)
            let issue = error.issues[0]
            #expect(issue.variable == variable)
            #expect(issue.value == value)
            #expect(issue.source == .environment)
            #expect(issue.description.contains(variable))
            #expect(issue.description.contains(value))
            #expect(issue.description.contains("expected"))
        }
    }

    @Test("every problem is collected, .env syntax included")
    func collectsAll() {
        do {
            _ = try WarrenConfiguration.load(
                environment: ["WARREN_HTTP_PORT": "http", "WARREN_POW_BITS": "0"],
                envFile: "WARREN_CRON_SCHEDULE=* * *\nnonsense line\nWARREN_PREFIX=a..b"
            )
            Issue.record("accepted")
        } catch {
            #expect(error.issues.count == 5)
            #expect(error.issues[0].variable == nil)
            #expect(error.issues[0].source == .envFile(line: 2))
            let variables = Set(error.issues.compactMap(\.variable))
            #expect(variables == ["WARREN_HTTP_PORT", "WARREN_POW_BITS", "WARREN_CRON_SCHEDULE", "WARREN_PREFIX"])
            #expect(error.description.contains("5 problems"))
            let cron = error.issues.first { $0.variable == "WARREN_CRON_SCHEDULE" }
            #expect(cron?.source == .envFile(line: 1))
            #expect(cron?.description.contains("3 fields") == true)
        }
    }

    @Test("the bits message names the range")
    func bitsMessage() {
        do {
            _ = try WarrenConfiguration.load(environment: ["WARREN_POW_BITS": "65"], envFile: nil)
        } catch {
            #expect(error.issues.first?.description == #"WARREN_POW_BITS="65" (from the environment): expected a whole number from 1 to 64"#)
        }
    }

    @Test("a bad prefix's issue says what is wrong with it")
    func prefixDetail() {
        do {
            _ = try WarrenConfiguration.load(environment: ["WARREN_PREFIX": "a..b"], envFile: nil)
        } catch {
            #expect(error.issues.first?.description.contains("empty segment") == true)
        }
    }

    @Test("unknown WARREN_ variables are listed as likely typos")
    func unknownVariables() throws {
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_POW_BIT": "20", "HOME": "/root"], envFile: "WARREN_HTTP_PROT=1")
        #expect(configuration.unknownVariables == ["WARREN_HTTP_PROT", "WARREN_POW_BIT"])
    }

    @Test("history settings: none, batch size, flush interval")
    func historySettings() throws {
        let configuration = try WarrenConfiguration.load(
            environment: ["WARREN_HISTORY": "none", "WARREN_HISTORY_BATCH": "50", "WARREN_HISTORY_FLUSH_MS": "20"], envFile: nil
        )
        #expect(configuration.history == .none)
        #expect(configuration.historyBatch == 50)
        #expect(configuration.historyFlushMs == 20)
        #expect(try WarrenConfiguration.load(environment: ["WARREN_HISTORY": "STORE"], envFile: nil).history == .store)
    }

    @Test("session memory: 0 asks the broker for every post")
    func sessionMemory() throws {
        #expect(try WarrenConfiguration.load(environment: ["WARREN_SESSION_MEMORY_MS": "0"], envFile: nil).sessionMemoryMs == 0)
        #expect(try WarrenConfiguration.load(environment: [:], envFile: "WARREN_SESSION_MEMORY_MS=1500\n").sessionMemoryMs == 1_500)
    }

    @Test("auth settings: the key in base64, its file, broker auth on by default")
    func authSettings() throws {
        let defaults = try WarrenConfiguration.load(environment: [:], envFile: nil)
        #expect(defaults.authKey == nil)
        #expect(defaults.authKeyFile == ".warren/auth.key")
        #expect(defaults.brokerAuth)
        let key = Array(repeating: UInt8(0xAB), count: 32)
        let configured = try WarrenConfiguration.load(
            environment: ["WARREN_AUTH_KEY": Data(key).base64EncodedString(), "WARREN_BROKER_AUTH": "off", "WARREN_AUTH_KEY_FILE": "/tmp/k"],
            envFile: nil
        )
        #expect(configured.authKey == key)
        #expect(!configured.brokerAuth)
        #expect(configured.authKeyFile == "/tmp/k")
    }

    @Test("abuse limits: registrations a minute, hashing threads and queue, connections per address")
    func abuseLimits() throws {
        let defaults = try WarrenConfiguration.load(environment: [:], envFile: nil)
        #expect(defaults.registerPerAddress == 5 && defaults.registerPerMinute == 60)
        #expect(defaults.hashThreads == .auto && defaults.hashQueue == 16)
        #expect(defaults.httpConnectionsPerAddress == 64)
        let configured = try WarrenConfiguration.load(
            environment: [
                "WARREN_REGISTER_PER_ADDRESS": "1000000", "WARREN_REGISTER_PER_MINUTE": "2", "WARREN_HASH_THREADS": "3",
                "WARREN_HASH_QUEUE": "0", "WARREN_HTTP_CONNECTIONS_PER_ADDRESS": "0",
            ],
            envFile: "WARREN_HASH_THREADS=off\n"
        )
        #expect(configured.registerPerAddress == 1_000_000 && configured.registerPerMinute == 2)
        #expect(configured.hashThreads == .count(3), "the environment wins over .env")
        #expect(configured.hashQueue == 0 && configured.httpConnectionsPerAddress == 0)
        #expect(try WarrenConfiguration.load(environment: ["WARREN_HASH_THREADS": "OFF"], envFile: nil).hashThreads == .off)
        for (variable, value) in [
            ("WARREN_REGISTER_PER_ADDRESS", "0"), ("WARREN_REGISTER_PER_MINUTE", "-1"), ("WARREN_HASH_THREADS", "65"),
            ("WARREN_HASH_THREADS", "many"), ("WARREN_HASH_QUEUE", "10001"), ("WARREN_HTTP_CONNECTIONS_PER_ADDRESS", "x"),
        ] {
            #expect(throws: ConfigurationError.self, "\(variable)=\(value)") {
                try WarrenConfiguration.load(environment: [variable: value], envFile: nil)
            }
        }
    }

    @Test("broker auth is turned off only by an explicit off", arguments: [
        ("on", true), ("ON", true), ("true", true), ("1", true), ("yes", true), ("", true),
        ("off", false), ("Off", false), ("false", false), ("0", false), ("no", false),
    ] as [(String, Bool)])
    func brokerAuthValues(value: String, expected: Bool) throws {
        let fromEnvironment = try WarrenConfiguration.load(environment: ["WARREN_BROKER_AUTH": value], envFile: nil)
        #expect(fromEnvironment.brokerAuth == expected)
        let fromFile = try WarrenConfiguration.load(environment: [:], envFile: "WARREN_BROKER_AUTH=\(value)")
        #expect(fromFile.brokerAuth == expected)
    }

    @Test("general's stream is on unless switched off; a value that is no switch is refused", arguments: [
        ("on", true), ("yes", true), ("", true), ("off", false), ("0", false),
    ] as [(String, Bool)])
    func generalStreamValues(value: String, expected: Bool) throws {
        #expect(try WarrenConfiguration.load(environment: [:], envFile: nil).generalStream == true)
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_GENERAL_STREAM": value], envFile: nil)
        #expect(configuration.generalStream == expected)
        #expect(throws: ConfigurationError.self) {
            try WarrenConfiguration.load(environment: ["WARREN_GENERAL_STREAM": "sometimes"], envFile: nil)
        }
    }

    @Test("the retired shared-account variables are no longer settings")
    func retiredBrowserAccount() throws {
        let configuration = try WarrenConfiguration.load(
            environment: ["WARREN_STOMP_LOGIN": "browser", "WARREN_STOMP_PASSCODE": "browser"], envFile: nil
        )
        #expect(configuration.unknownVariables == ["WARREN_STOMP_LOGIN", "WARREN_STOMP_PASSCODE"])
    }

    @Test("a short or undecodable key is an error that never shows the key")
    func authKeyErrors() {
        for value in [Data(repeating: 1, count: 31).base64EncodedString(), "not base64 at all!"] {
            do {
                _ = try WarrenConfiguration.load(environment: ["WARREN_AUTH_KEY": value, "WARREN_BROKER_AUTH": "maybe"], envFile: nil)
                Issue.record("accepted \(value)")
            } catch {
                #expect(error.issues.map(\.variable) == ["WARREN_AUTH_KEY", "WARREN_BROKER_AUTH"])
                #expect(!error.description.contains(value))
                #expect(error.description.contains("at least 32 bytes"))
                #expect(error.description.contains("on or off"))
            }
        }
    }
}
