import NIOCore
import Testing

@testable import AMQPClient

@Suite("AMQPConfiguration from URLs")
struct AMQPConfigurationTests {
    @Test func fullURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://warren:s%40cret@broker.example:5692/warren?heartbeat=10&frame_max=8192&channel_max=64&connection_timeout=2500")
        #expect(configuration.user == "warren")
        #expect(configuration.password == "s@cret")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5692)
        #expect(configuration.virtualHost == "warren")
        #expect(configuration.heartbeat == 10)
        #expect(configuration.frameMax == 8192)
        #expect(configuration.channelMax == 64)
        #expect(configuration.connectionTimeout == .milliseconds(2500))
        #expect(configuration.tls == nil)
    }

    @Test func defaults() throws {
        let plain = try AMQPConfiguration(url: "amqp://h")
        #expect(plain.port == 5672)
        #expect(plain.virtualHost == "/")
        #expect(plain.user == "guest" && plain.password == "guest")
        let secure = try AMQPConfiguration(url: "amqps://h")
        #expect(secure.port == 5671)
        #expect(secure.tls != nil)
    }

    @Test func vhostForms() throws {
        #expect(try AMQPConfiguration(url: "amqp://h/").virtualHost == "")
        #expect(try AMQPConfiguration(url: "amqp://h/%2F").virtualHost == "/")
        #expect(try AMQPConfiguration(url: "amqp://h/a%20b").virtualHost == "a b")
    }

    @Test func ipv6AndUserOnly() throws {
        let configuration = try AMQPConfiguration(url: "amqp://bob@[::1]:5700")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5700)
        #expect(configuration.user == "bob")
    }

    @Test func connectionTimeoutUnits() throws {
        #expect(try AMQPConfiguration(url: "amqp://h?connection_timeout=3s").connectionTimeout == .seconds(3))
        #expect(try AMQPConfiguration(url: "amqp://h?connection_timeout=40ms").connectionTimeout == .milliseconds(40))
    }

    @Test(arguments: [
        "http://h", "amqp://h:0", "amqp://h:99999", "amqp://h:x", "amqp://h?heartbeat=-1", "amqp://h?heartbeat=70000",
        "amqp://h?frame_max=100", "amqp://h?frame_max=abc", "amqp://h?channel_max=65536", "amqp://h?connection_timeout=-5",
        "amqp://u:p%4@h", "amqp://[::1",
    ])
    func invalid(url: String) {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
        do {
            _ = try AMQPConfiguration(url: url)
        } catch {
            #expect(error.code == .invalidConfiguration)
        }
    }

    @Test func frameMaxZeroAllowed() throws {
        #expect(try AMQPConfiguration(url: "amqp://h?frame_max=0").frameMax == 0)
    }

    @Test func passwordRedacted() throws {
        let configuration = try AMQPConfiguration(url: "amqp://warren:topsecret@h/v")
        #expect(!configuration.description.contains("topsecret"))
        #expect(!"\(configuration)".contains("topsecret"))
        #expect(configuration.description.contains("***"))
    }

    @Test func validateRejectsSmallFrameMax() {
        var configuration = AMQPConfiguration()
        configuration.frameMax = 1000
        #expect(throws: AMQPError.self) { try configuration.validate() }
    }
}
