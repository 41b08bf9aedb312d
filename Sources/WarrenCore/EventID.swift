import Foundation

/// A time-ordered unique id: 48 bits of Unix milliseconds then 80 random bits, in 26 characters
/// of Crockford base32 (ULID layout).
///
/// Ids sort as strings in the order they were made: by millisecond, and within one millisecond
/// of one ``EventIDGenerator`` by creation, since the random part is incremented rather than
/// redrawn.
public struct EventID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The 26-character text, e.g. `01JF8Q9X3M4N5P6Q7R8S9T0V1W`.
    public let rawValue: String

    /// Crockford's base32 alphabet: no I, L, O or U.
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    /// The number of characters in an id.
    public static let length = 26

    /// Accepts a well-formed id (uppercase Crockford base32, at most `7ZZZ…`), or returns nil.
    public init?(rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard bytes.count == EventID.length, bytes[0] <= UInt8(ascii: "7"),
            bytes.allSatisfy({ EventID.alphabet.contains($0) })
        else { return nil }
        self.rawValue = rawValue
    }

    /// Builds the id of a timestamp and 80 random bits.
    init(milliseconds: UInt64, randomHigh: UInt16, randomLow: UInt64) {
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | UInt64(randomHigh)
        var characters = [UInt8](repeating: 0, count: EventID.length)
        // Character i holds bits [128 - 5(26 - i), 128 - 5(25 - i)) counting from the top: the
        // first character gets the top 3 bits, every other one 5.
        for index in 0..<EventID.length {
            let lowestBit = 5 * (EventID.length - 1 - index)
            characters[index] = EventID.alphabet[Int(EventID.bits(high: high, low: randomLow, from: lowestBit))]
        }
        rawValue = String(decoding: characters, as: UTF8.self)
    }

    /// Five bits of a 128-bit value, starting at bit `lowestBit` (0 is the least significant).
    static func bits(high: UInt64, low: UInt64, from lowestBit: Int) -> UInt64 {
        let value: UInt64
        if lowestBit >= 64 {
            value = high >> UInt64(lowestBit - 64)
        } else if lowestBit > 59 {
            value = low >> UInt64(lowestBit) | high << UInt64(64 - lowestBit)
        } else {
            value = low >> UInt64(lowestBit)
        }
        return value & 0x1F
    }

    /// The millisecond the id was made in.
    public var milliseconds: UInt64 {
        var value: UInt64 = 0
        for byte in rawValue.utf8.prefix(10) {
            value = value << 5 | UInt64(EventID.alphabet.firstIndex(of: byte)!)
        }
        return value
    }

    /// The instant the id was made in, to the millisecond.
    public var date: Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
    }

    /// The id text.
    public var description: String { rawValue }

    /// Orders ids as their text sorts, which is creation order.
    public static func < (lhs: EventID, rhs: EventID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Decodes an id, refusing malformed text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = EventID(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a 26-character event id.")
        }
        self = id
    }

    /// Encodes the id as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Makes ``EventID``s, strictly increasing even when called many times in one millisecond or
/// when the clock steps back. Safe to share between tasks.
public final class EventIDGenerator: @unchecked Sendable {
    // @unchecked: all mutable state is behind `lock`.
    private let lock = NSLock()
    private var lastMilliseconds: UInt64 = 0
    private var lastHigh: UInt16 = 0
    private var lastLow: UInt64 = 0
    private let clock: @Sendable () -> UInt64
    private let random: @Sendable () -> (UInt16, UInt64)

    /// A generator on the system clock and system random numbers.
    public convenience init() {
        self.init(
            clock: { UInt64(max(0, (Date().timeIntervalSince1970 * 1_000).rounded(.down))) },
            random: {
                var generator = SystemRandomNumberGenerator()
                return (generator.next(), generator.next())
            }
        )
    }

    /// A generator on an injected clock and random source, for tests.
    /// - Parameters:
    ///   - clock: Milliseconds since the Unix epoch.
    ///   - random: The 80 random bits of a new millisecond, as high 16 and low 64 bits.
    public init(clock: @escaping @Sendable () -> UInt64, random: @escaping @Sendable () -> (UInt16, UInt64)) {
        self.clock = clock
        self.random = random
    }

    /// The next id.
    public func next() -> EventID {
        let now = clock()
        lock.lock()
        defer { lock.unlock() }
        if now > lastMilliseconds {
            lastMilliseconds = now
            (lastHigh, lastLow) = random()
        } else {
            // Same millisecond, or the clock went back: stay on the last millisecond and count
            // up, carrying into the timestamp in the (2^80-to-one) case the random part is full.
            lastLow &+= 1
            if lastLow == 0 {
                lastHigh &+= 1
                if lastHigh == 0 { lastMilliseconds += 1 }
            }
        }
        return EventID(milliseconds: lastMilliseconds, randomHigh: lastHigh, randomLow: lastLow)
    }

    /// The next id's text.
    public func nextString() -> String {
        next().rawValue
    }
}
