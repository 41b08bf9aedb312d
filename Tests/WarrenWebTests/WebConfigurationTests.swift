import Hummingbird
import Testing
import WarrenCore
import WarrenWeb

@Suite("Web configuration")
struct WebConfigurationTests {
    @Test("With nothing set, the web role gets WarrenConfiguration's defaults")
    func defaults() throws {
        let configuration = WebConfiguration(try WarrenConfiguration.load(environment: [:], envFile: nil))
        var memberwise = WebConfiguration()
        memberwise.generalStream = "chat.stream.general"
        #expect(configuration == memberwise)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.webRoot == "web")
        #expect(configuration.stompURL == "ws://127.0.0.1:15674/ws")
        #expect(configuration.stompVHost == "warren")
        #expect(configuration.prefix == "chat")
        #expect(configuration.powBits == 24)
        #expect(configuration.broker == .init(host: "127.0.0.1", port: 5672))
        #expect(configuration.stompOrigin == "ws://127.0.0.1:15674")
        #expect(configuration.generalStream == "chat.stream.general")
        #expect(WebConfiguration(try WarrenConfiguration.load(environment: ["WARREN_GENERAL_STREAM": "off"], envFile: nil)).generalStream == nil)
    }

    @Test("With WARREN_GENERAL_STREAM=on, browsers are told general's stream under the prefix")
    func generalStream() throws {
        let configuration = WebConfiguration(
            try WarrenConfiguration.load(environment: ["WARREN_GENERAL_STREAM": "on", "WARREN_PREFIX": "team.chat"], envFile: nil)
        )
        #expect(configuration.generalStream == "team.chat.stream.general")
    }

    @Test("Every web setting comes through WarrenConfiguration, from the environment and .env")
    func everyVariable() throws {
        let envFile = """
            WARREN_WEB_ROOT=/app/web
            WARREN_POW_BITS=20
            WARREN_HTTP_PORT=1
            """
        let configuration = WebConfiguration(
            try WarrenConfiguration.load(
                environment: [
                    "WARREN_HTTP_HOST": "0.0.0.0",
                    "WARREN_HTTP_PORT": "9090",  // the environment wins over .env
                    "WARREN_STOMP_URL": "wss://chat.example.org/ws",
                    "WARREN_STOMP_VHOST": "prod",
                    "WARREN_PREFIX": "team-a.chat",
                    "WARREN_AMQP_URL": "amqps://warren:secret@rabbitmq/warren",
                ],
                envFile: envFile
            )
        )
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9090)
        #expect(configuration.webRoot == "/app/web")
        #expect(configuration.stompURL == "wss://chat.example.org/ws")
        #expect(configuration.stompOrigin == "wss://chat.example.org")
        #expect(configuration.stompVHost == "prod")
        #expect(configuration.prefix == "team-a.chat")
        #expect(configuration.powBits == 20)
        #expect(configuration.broker == .init(host: "rabbitmq", port: 5671))
    }

    @Test("The broker endpoint is the AMQP URL's host and port")
    func brokerEndpoint() {
        #expect(WebConfiguration.BrokerEndpoint(amqpURL: "amqp://u:p@broker.internal:5800/v") == .init(host: "broker.internal", port: 5800))
        #expect(WebConfiguration.BrokerEndpoint(amqpURL: "amqp://broker") == .init(host: "broker", port: 5672))
        #expect(WebConfiguration.BrokerEndpoint(amqpURL: "amqp:///vhost") == nil)
    }

    @Test("An IPv6 Web-STOMP host is bracketed in the origin")
    func ipv6Origin() throws {
        let configuration = WebConfiguration(try WarrenConfiguration.load(environment: ["WARREN_STOMP_URL": "ws://[::1]:15674/ws"], envFile: nil))
        #expect(configuration.stompOrigin == "ws://[::1]:15674")
    }

    @Test("A bad web setting is refused by the one loader, naming the variable")
    func badValue() {
        let error = #expect(throws: ConfigurationError.self) {
            try WarrenConfiguration.load(environment: ["WARREN_HTTP_PORT": "eighty", "WARREN_STOMP_URL": "http://x/ws"], envFile: nil)
        }
        let variables = error?.issues.compactMap(\.variable) ?? []
        #expect(variables.contains("WARREN_HTTP_PORT"))
        #expect(variables.contains("WARREN_STOMP_URL"))
    }

    @Test("A bad AMQP URL's password stays out of the message")
    func passwordHidden() {
        let error = #expect(throws: ConfigurationError.self) {
            try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": "http://warren:hunter2@rabbitmq:5672/warren"], envFile: nil)
        }
        #expect(error?.description.contains("WARREN_AMQP_URL") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("The policy allows this origin and the Web-STOMP origin only")
    func contentSecurityPolicy() {
        #expect(
            SecurityHeadersMiddleware<BasicRequestContext>.contentSecurityPolicy(stompOrigin: "ws://127.0.0.1:15674")
                == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src 'self' ws://127.0.0.1:15674; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
    }
}
