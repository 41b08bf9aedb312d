import Logging
import NIOConcurrencyHelpers
import WarrenCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A swift-log handler that writes one JSON object per line, for log collectors
/// (`WARREN_LOG_FORMAT=json`).
///
/// `{"time": "2026-12-04T11:20:00.123Z", "level": "info", "logger": "warren.services",
/// "message": "logged in", "role": "login", "id": "01JF…", …}`: the fixed keys first, then the
/// metadata (the logger's, its metadata provider's, the line's), each key once, flattened into
/// the object; a metadata key that is one of the fixed keys is written as `meta.<key>`.
/// Values are strings, or objects and arrays for nested metadata.
public struct JSONLogHandler: LogHandler {
    /// The fixed keys, which metadata cannot replace.
    public static let fixedKeys: Set<String> = ["time", "level", "logger", "message", "source"]

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: LogSink

    /// A handler writing to `sink`.
    public init(label: String, sink: LogSink, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    /// A handler writing to standard error, as the text format does.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label, sink: .standardError)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        self.sink.write(Self.line(time: Date(), level: event.level, label: self.label, message: "\(event.message)", source: event.source, metadata: merged))
    }

    /// One log line's JSON, with its newline.
    static func line(time: Date, level: Logger.Level, label: String, message: String, source: String, metadata: Logger.Metadata) -> String {
        var out = "{"
        out.reserveCapacity(128 + message.utf8.count)
        func field(_ key: String, _ value: String, first: Bool = false) {
            if !first { out += "," }
            JSONText.appendString(key, to: &out)
            out += ":"
            JSONText.appendString(value, to: &out)
        }
        field("time", Timestamp.format(time), first: true)
        field("level", level.rawValue)
        field("logger", label)
        field("message", message)
        field("source", source)
        for key in metadata.keys.sorted() {
            out += ","
            JSONText.appendString(Self.fixedKeys.contains(key) ? "meta.\(key)" : key, to: &out)
            out += ":"
            JSONText.append(metadata[key]!, to: &out)
        }
        out += "}\n"
        return out
    }
}

/// Where log lines go: a file descriptor (standard error), or a function (tests).
public final class LogSink: Sendable {
    private let writeLine: @Sendable (String) -> Void

    /// A sink that calls `write` with each line (its newline included), one call at a time.
    public init(_ write: @escaping @Sendable (String) -> Void) {
        let lock = NIOLock()
        self.writeLine = { line in
            lock.withLock { write(line) }
        }
    }

    /// Standard error, unbuffered: whole lines, one logger at a time.
    public static let standardError = LogSink { line in
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }  // nowhere to write: the line is dropped, as stderr's would be
                offset += written
            }
        }
    }

    func write(_ line: String) {
        self.writeLine(line)
    }
}

/// write(2).
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, bytes, count)
    #else
    Darwin.write(descriptor, bytes, count)
    #endif
}

/// JSON text by hand: strings escaped per RFC 8259, metadata values as strings, objects, arrays.
enum JSONText {
    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &out)
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .dictionary(let dictionary):
            out += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(dictionary[key]!, to: &out)
            }
            out += "}"
        }
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
