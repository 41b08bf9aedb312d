import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import WarrenOps

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    /// Lines written through a handler at `level`, with `body` logging.
    static func lines(level: Logger.Level = .trace, _ body: (inout Logger) -> Void) -> [String] {
        let written = NIOLockedValueBox<[String]>([])
        var handler = JSONLogHandler(label: "warren.test", sink: LogSink { line in written.withLockedValue { $0.append(line) } })
        handler.logLevel = level
        var logger = Logger(label: "warren.test") { _ in handler }
        body(&logger)
        return written.withLockedValue { $0 }
    }

    static func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false, "one line per entry: \(line)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("Each entry is one JSON object with the fixed keys and the metadata flattened")
    func fields() throws {
        let lines = Self.lines { logger in
            logger[metadataKey: "role"] = "login"
            logger.info("post admitted", metadata: ["id": "01JF0000000000000000000000", "clientId": "c-1", "count": .stringConvertible(3)])
        }
        #expect(lines.count == 1)
        let object = try Self.object(lines[0])
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "warren.test")
        #expect(object["message"] as? String == "post admitted")
        #expect(object["role"] as? String == "login")
        #expect(object["id"] as? String == "01JF0000000000000000000000")
        #expect(object["clientId"] as? String == "c-1")
        #expect(object["count"] as? String == "3")
        let time = try #require(object["time"] as? String)
        #expect(time.hasSuffix("Z") && time.count == 24, "RFC 3339 UTC with milliseconds: \(time)")
    }

    @Test("Quotes, backslashes, newlines and control characters are escaped; nested metadata stays nested")
    func escaping() throws {
        let text = "a \"quoted\" \\ line\nand\ta bell \u{7} and \u{2028} é 🐇"
        let lines = Self.lines { logger in
            logger.warning("\(text)", metadata: ["nested": ["list": ["x", "y"], "inner": "z"], "message": "mine"])
        }
        let object = try Self.object(lines[0])
        #expect(object["message"] as? String == text)
        #expect(object["meta.message"] as? String == "mine", "a metadata key that is a fixed key is renamed")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["x", "y"])
        #expect(nested["inner"] as? String == "z")
    }

    @Test("The level is honoured")
    func level() {
        let lines = Self.lines(level: .notice) { logger in
            logger.info("hidden")
            logger.notice("shown")
        }
        #expect(lines.count == 1)
    }
}
