import Hummingbird
import Testing
import WarrenWeb

@Suite("Web configuration")
struct WebConfigurationTests {
    @Test("With no variables every default applies")
    func defaults() throws {
        let configuration = try WebConfiguration(environment: [:])
        #expect(configuration == WebConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.webRoot == "web")
        #expect(configuration.stompURL == "ws://127.0.0.1:15674/ws")
        #expect(configuration.stompVHost == "warren")
        #expect(configuration.stompLogin == "browser")
        #expect(configuration.stompPasscode == "browser")
        #expect(configuration.prefix == "chat")
        #expect(configuration.powBits == 24)
        #expect(configuration.broker == .init(host: "127.0.0.1", port: 5672))
        #expect(configuration.stompOrigin == "ws://127.0.0.1:15674")
    }

    @Test("Every variable is read")
    func everyVariable() throws {
        let configuration = try WebConfiguration(environment: [
            "WARREN_HTTP_HOST": "0.0.0.0",
            "WARREN_HTTP_PORT": "9090",
            "WARREN_WEB_ROOT": "/app/web",
            "WARREN_STOMP_URL": "wss://chat.example.org/ws",
            "WARREN_STOMP_VHOST": "prod",
            "WARREN_STOMP_LOGIN": "guest-tab",
            "WARREN_BROWSER_PASSWORD": "pa ss",
            "WARREN_PREFIX": "team-a.chat",
            "WARREN_POW_BITS": "20",
            "WARREN_AMQP_URL": "amqps://warren:secret@rabbitmq/warren",
        ])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9090)
        #expect(configuration.webRoot == "/app/web")
        #expect(configuration.stompURL == "wss://chat.example.org/ws")
        #expect(configuration.stompOrigin == "wss://chat.example.org")
        #expect(configuration.stompVHost == "prod")
        #expect(configuration.stompLogin == "guest-tab")
        #expect(configuration.stompPasscode == "pa ss")
        #expect(configuration.prefix == "team-a.chat")
        #expect(configuration.powBits == 20)
        #expect(configuration.broker == .init(host: "rabbitmq", port: 5671))
    }

    @Test("Empty variables take their defaults")
    func emptyMeansDefault() throws {
        let configuration = try WebConfiguration(environment: [
            "WARREN_HTTP_PORT": "",
            "WARREN_STOMP_URL": " ",
            "WARREN_BROWSER_PASSWORD": "",
            "WARREN_POW_BITS": "",
        ])
        #expect(configuration == WebConfiguration())
    }

    @Test("An IPv6 Web-STOMP host keeps its brackets in the origin")
    func ipv6Origin() throws {
        let configuration = try WebConfiguration(environment: ["WARREN_STOMP_URL": "ws://[::1]:15674/ws"])
        #expect(configuration.stompOrigin == "ws://[::1]:15674")
    }

    @Test(
        "Unusable values are refused, naming the variable",
        arguments: [
            ("WARREN_HTTP_PORT", "eighty", WebConfigurationError.Code.invalidPort),
            ("WARREN_HTTP_PORT", "70000", .invalidPort),
            ("WARREN_HTTP_PORT", "-1", .invalidPort),
            ("WARREN_POW_BITS", "0", .invalidNumber),
            ("WARREN_POW_BITS", "65", .invalidNumber),
            ("WARREN_POW_BITS", "many", .invalidNumber),
            ("WARREN_STOMP_URL", "http://127.0.0.1:15674/ws", .invalidURL),
            ("WARREN_STOMP_URL", "127.0.0.1:15674", .invalidURL),
            ("WARREN_STOMP_URL", "ws:///ws", .invalidURL),
            ("WARREN_STOMP_URL", "ws://127.0.0.1:99999/ws", .invalidURL),
            ("WARREN_AMQP_URL", "http://rabbitmq:5672", .invalidURL),
            ("WARREN_AMQP_URL", "amqp:///warren", .invalidURL),
            ("WARREN_PREFIX", "chat room", .invalidName),
            ("WARREN_PREFIX", "chat.", .invalidName),
            ("WARREN_PREFIX", "a..b", .invalidName),
            ("WARREN_PREFIX", "chat#", .invalidName),
        ]
    )
    func badValues(variable: String, value: String, code: WebConfigurationError.Code) {
        let error = #expect(throws: WebConfigurationError.self) {
            try WebConfiguration(environment: [variable: value])
        }
        #expect(error?.code == code)
        #expect(error?.variable == variable)
        #expect(error?.description.hasPrefix("\(variable)=") == true)
    }

    @Test("An error message spells out what was wrong and what was expected")
    func errorMessage() {
        let error = #expect(throws: WebConfigurationError.self) {
            try WebConfiguration(environment: ["WARREN_HTTP_PORT": "eighty"])
        }
        #expect(error?.description == "WARREN_HTTP_PORT=\"eighty\": expected a port number from 0 to 65535")
    }

    @Test("A bad AMQP URL's password stays out of the message")
    func passwordRedacted() {
        let error = #expect(throws: WebConfigurationError.self) {
            try WebConfiguration(environment: ["WARREN_AMQP_URL": "http://warren:hunter2@rabbitmq:5672/warren"])
        }
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
