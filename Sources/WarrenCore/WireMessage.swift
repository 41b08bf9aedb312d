import Foundation

/// A JSON payload that crosses the broker: one fixed encoder and decoder configuration.
///
/// Encoding sorts keys and leaves absent optionals out, so the same value always gives the same
/// bytes. Decoding checks the bytes are UTF-8 and not oversized first, and turns every failure
/// into a ``Refusal`` with code ``Refusal/Code/malformedRequest`` and a readable message.
public protocol WireMessage: Codable, Sendable {}

extension WireMessage {
    /// The JSON encoding of this value, as bytes for an AMQP body.
    public func encode() -> [UInt8] {
        Array(encodedData())
    }

    /// The JSON encoding of this value.
    public func encodedData() -> Data {
        do {
            return try WireJSON.makeEncoder().encode(self)
        } catch {
            // Every wire type here is plain strings, numbers and nested wire types, which
            // JSONEncoder cannot fail on.
            preconditionFailure("encoding \(Self.self) failed: \(error)")
        }
    }

    /// The JSON encoding of this value as a string.
    public func encodedString() -> String {
        String(decoding: encodedData(), as: UTF8.self)
    }

    /// Decodes a value from JSON bytes, refusing them with a readable reason.
    public static func decode<Bytes: Collection>(_ bytes: Bytes) throws(Refusal) -> Self where Bytes.Element == UInt8 {
        if bytes.count > Limits.requestMaxBytes {
            throw Refusal(
                .requestTooLarge,
                "The message is \(bytes.count) bytes; at most \(Limits.requestMaxBytes) are accepted."
            )
        }
        // Strict UTF-8 first, so an ill-formed byte is named as such, not as bad JSON.
        try Validation.checkUTF8(bytes)
        do {
            return try WireJSON.makeDecoder().decode(Self.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Refusal(.malformedRequest, WireJSON.describe(error))
        } catch {
            throw Refusal(.malformedRequest, "The message is not valid JSON.")
        }
    }

    /// Decodes a value from a JSON string.
    public static func decode(_ text: String) throws(Refusal) -> Self {
        try decode(Array(text.utf8))
    }
}

/// The encoder and decoder configuration every ``WireMessage`` uses.
public enum WireJSON {
    /// A new encoder: sorted keys, slashes unescaped. Dates are encoded by the types themselves.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A new decoder matching ``makeEncoder()``.
    public static func makeDecoder() -> JSONDecoder {
        JSONDecoder()
    }

    /// One sentence for a decoding failure: which field and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            let keys = (codingPath + (key.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue
            }
            return keys.isEmpty ? "the message" : "\"\(keys.joined(separator: "."))\""
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "The message has no \(path(context.codingPath, key)) field."
        case .valueNotFound(_, let context):
            return "The field \(path(context.codingPath)) is null."
        case .typeMismatch(let type, let context):
            return "The field \(path(context.codingPath)) is not \(describe(type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "The message is not valid JSON."
            }
            return "The field \(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "The message is not valid JSON of the expected shape."
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "the expected type"
        }
    }
}
