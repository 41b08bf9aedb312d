import Foundation

/// RFC 3339 timestamps as Warren writes them: UTC, milliseconds, `Z`.
///
/// `2026-11-23T11:20:00.123Z` is the only form written. Reading is more forgiving: any number
/// of fractional digits (or none) and a `Z` or `±hh:mm` offset are accepted, since another
/// producer may write those.
public enum Timestamp {
    /// Formats an instant as `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC, rounding down to the millisecond.
    public static func format(_ date: Date) -> String {
        // Rounding to microseconds first keeps x.123 from printing as x.122 when the Double
        // holding it is a hair below.
        let micros = Int((date.timeIntervalSince1970 * 1_000_000).rounded())
        let millis = micros >= 0 ? micros / 1_000 : (micros - 999) / 1_000
        let seconds = millis >= 0 ? millis / 1_000 : (millis - 999) / 1_000
        let fraction = millis - seconds * 1_000
        let civil = CivilTime(secondsSinceEpoch: seconds)
        return pad(civil.year, 4) + "-" + pad(civil.month, 2) + "-" + pad(civil.day, 2)
            + "T" + pad(civil.hour, 2) + ":" + pad(civil.minute, 2) + ":" + pad(civil.second, 2)
            + "." + pad(fraction, 3) + "Z"
    }

    /// The instant rounded down to the millisecond: exactly what ``format(_:)`` then
    /// ``parse(_:)`` give back, so a value survives a JSON round trip unchanged.
    public static func truncated(_ date: Date) -> Date {
        let micros = Int((date.timeIntervalSince1970 * 1_000_000).rounded())
        let millis = micros >= 0 ? micros / 1_000 : (micros - 999) / 1_000
        return Date(timeIntervalSince1970: Double(millis) / 1_000)
    }

    /// Reads an RFC 3339 date-time, or returns nil if the text is not one.
    public static func parse(_ text: String) -> Date? {
        var reader = Reader(Array(text.utf8))
        guard
            let year = reader.digits(4), reader.skip(UInt8(ascii: "-")),
            let month = reader.digits(2), reader.skip(UInt8(ascii: "-")),
            let day = reader.digits(2), reader.skip(anyOf: [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")]),
            let hour = reader.digits(2), reader.skip(UInt8(ascii: ":")),
            let minute = reader.digits(2), reader.skip(UInt8(ascii: ":")),
            let second = reader.digits(2)
        else { return nil }
        guard (1...12).contains(month), (1...CivilTime.daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }

        var millis = 0
        var beyondMillis = 0.0
        if reader.skip(UInt8(ascii: ".")) {
            var count = 0
            var scale = 1e-4
            while let digit = reader.digit() {
                if count < 3 {
                    millis = millis * 10 + digit
                } else {
                    beyondMillis += Double(digit) * scale
                    scale /= 10
                }
                count += 1
            }
            if count == 0 { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }

        var offset = 0
        if reader.skip(anyOf: [UInt8(ascii: "Z"), UInt8(ascii: "z")]) {
            offset = 0
        } else if let sign = reader.next(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            guard let offsetHours = reader.digits(2), reader.skip(UInt8(ascii: ":")),
                let offsetMinutes = reader.digits(2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = (offsetHours * 3_600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard reader.atEnd else { return nil }

        let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
        let seconds = civil.secondsSinceEpoch - offset
        // One division of an exact integer gives the Double nearest to the written instant, the
        // same one a literal like 1795432800.123 gives.
        let exact = (Double(seconds) * 1_000 + Double(millis)) / 1_000
        return Date(timeIntervalSince1970: beyondMillis == 0 ? exact : exact + beyondMillis)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private struct Reader {
        var bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func skip(_ byte: UInt8) -> Bool {
            skip(anyOf: [byte])
        }

        mutating func skip(anyOf choices: [UInt8]) -> Bool {
            guard index < bytes.count, choices.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
    }
}
