import Foundation

/// A cron schedule: the five classic fields, a shortcut such as `@daily`, or `@every <n>s`.
///
/// Fields are `minute hour day-of-month month day-of-week` with lists (`1,15`), ranges
/// (`1-5`), steps (`*/5`, `1-10/2`, and `5/15` meaning `5-59/15`), month names `jan`…`dec`
/// and weekday names `sun`…`sat`, case-insensitive; weekday `0` and `7` are both Sunday.
/// Shortcuts: `@yearly` / `@annually`, `@monthly`, `@weekly`, `@daily` / `@midnight`, `@hourly`.
///
/// Day-of-month and day-of-week follow Vixie cron: a field that starts with `*` is
/// unrestricted; when both are restricted a day matches if either does
/// (`0 0 13 * fri` fires on every 13th and every Friday), otherwise both must.
///
/// `@every <duration>` (`@every 1s`, `@every 5m`, `@every 1h30m`) is Warren's addition for
/// tests and demos that need second granularity: it fires at every multiple of the duration
/// since the Unix epoch, so `@every 1s` fires on each whole second and `@every 1h` on the hour
/// in UTC. ``everySeconds(_:)`` builds one in code.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The expression the schedule was parsed from.
    public let expression: String
    let storage: Storage

    enum Storage: Hashable, Sendable {
        case fields(CronFields)
        case interval(seconds: Int)
    }

    /// Every minute, on the minute: Warren's default.
    public static let everyMinute = try! CronSchedule(parsing: "* * * * *")

    /// Parses a schedule, naming the field and the token at fault on failure.
    public init(parsing expression: String) throws(CronParseError) {
        self.expression = expression
        self.storage = try CronParser(expression: expression).parse()
    }

    /// A schedule firing every `seconds` seconds, at multiples of it since the Unix epoch.
    /// - Precondition: `seconds` is at least 1.
    public static func everySeconds(_ seconds: Int) -> CronSchedule {
        precondition(seconds >= 1, "a schedule needs an interval of at least one second")
        return CronSchedule(expression: "@every \(seconds)s", storage: .interval(seconds: seconds))
    }

    init(expression: String, storage: Storage) {
        self.expression = expression
        self.storage = storage
    }

    /// The interval of an `@every` schedule in seconds, or nil for a field schedule.
    public var intervalSeconds: Int? {
        if case .interval(let seconds) = storage { return seconds }
        return nil
    }

    /// The expression.
    public var description: String { expression }
}

/// The parsed five fields, each a bit set.
struct CronFields: Hashable, Sendable {
    /// Bits 0...59.
    var minutes: UInt64 = 0
    /// Bits 0...23.
    var hours: UInt64 = 0
    /// Bits 1...31.
    var days: UInt64 = 0
    /// Bits 1...12.
    var months: UInt64 = 0
    /// Bits 0...6, Sunday first.
    var weekdays: UInt64 = 0
    /// Whether day-of-month started with `*`.
    var daysStar = false
    /// Whether day-of-week started with `*`.
    var weekdaysStar = false
}

/// Why a cron expression could not be read.
public struct CronParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole expression.
    public var expression: String
    /// The field at fault (`minute`, `hour`, `day-of-month`, `month`, `day-of-week`), or nil
    /// when the expression as a whole is wrong.
    public var field: String?
    /// The token at fault, if one can be named.
    public var token: String?
    /// What is wrong and what is expected.
    public var reason: String

    /// Creates an error.
    public init(expression: String, field: String?, token: String?, reason: String) {
        self.expression = expression
        self.field = field
        self.token = token
        self.reason = reason
    }

    /// One sentence naming the field, the token and the problem.
    public var description: String {
        var text = "cron expression \"\(expression)\": "
        if let field { text += "\(field) field: " }
        if let token { text += "\"\(token)\" " }
        return text + reason
    }
}

/// Reads an expression into ``CronSchedule/Storage``.
private struct CronParser {
    let expression: String

    struct FieldSpec {
        let name: String
        let min: Int
        let max: Int
        /// The largest number accepted: 7 for day-of-week, where it means Sunday.
        let maxAccepted: Int
        let names: [String]
        /// The value of the first name.
        let firstNameValue: Int
    }

    static let minute = FieldSpec(name: "minute", min: 0, max: 59, maxAccepted: 59, names: [], firstNameValue: 0)
    static let hour = FieldSpec(name: "hour", min: 0, max: 23, maxAccepted: 23, names: [], firstNameValue: 0)
    static let day = FieldSpec(name: "day-of-month", min: 1, max: 31, maxAccepted: 31, names: [], firstNameValue: 0)
    static let month = FieldSpec(
        name: "month", min: 1, max: 12, maxAccepted: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], firstNameValue: 1
    )
    static let weekday = FieldSpec(
        name: "day-of-week", min: 0, max: 6, maxAccepted: 7,
        names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], firstNameValue: 0
    )

    static let shortcuts: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    func error(_ field: String?, _ token: String?, _ reason: String) -> CronParseError {
        CronParseError(expression: expression, field: field, token: token, reason: reason)
    }

    func parse() throws(CronParseError) -> CronSchedule.Storage {
        let words = expression.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard let first = words.first else {
            throw error(nil, nil, "is empty; expected five fields (minute hour day-of-month month day-of-week) or a shortcut such as @daily")
        }
        if first.hasPrefix("@") {
            let name = first.lowercased()
            if name == "@every" {
                guard words.count == 2 else {
                    throw error(nil, nil, "expected \"@every <duration>\", such as \"@every 1s\", \"@every 5m\" or \"@every 1h30m\"")
                }
                return .interval(seconds: try parseDuration(words[1]))
            }
            guard let fields = CronParser.shortcuts[name] else {
                throw error(nil, first, "is not a known shortcut; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>")
            }
            guard words.count == 1 else {
                throw error(nil, first, "takes no fields after it")
            }
            return try CronParser(expression: expression).parseFields(fields.split(separator: " ").map(String.init))
        }
        return try parseFields(words)
    }

    func parseFields(_ words: [String]) throws(CronParseError) -> CronSchedule.Storage {
        guard words.count == 5 else {
            throw error(nil, nil, "has \(words.count) field\(words.count == 1 ? "" : "s"); expected 5: minute hour day-of-month month day-of-week")
        }
        var fields = CronFields()
        fields.minutes = try parseField(words[0], CronParser.minute)
        fields.hours = try parseField(words[1], CronParser.hour)
        fields.days = try parseField(words[2], CronParser.day)
        fields.months = try parseField(words[3], CronParser.month)
        fields.weekdays = try parseField(words[4], CronParser.weekday)
        fields.daysStar = words[2].hasPrefix("*")
        fields.weekdaysStar = words[4].hasPrefix("*")
        return .fields(fields)
    }

    func parseField(_ text: String, _ spec: FieldSpec) throws(CronParseError) -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if item.isEmpty {
                throw error(spec.name, text, "has an empty list item")
            }
            bits |= try parseItem(item, spec)
        }
        return bits
    }

    func parseItem(_ item: String, _ spec: FieldSpec) throws(CronParseError) -> UInt64 {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw error(spec.name, item, "has more than one '/'")
        }
        var step = 1
        if parts.count == 2 {
            let span = spec.max - spec.min + 1
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII), value >= 1, value <= span else {
                throw error(spec.name, item, "has step \"\(parts[1])\"; expected a number from 1 to \(span)")
            }
            step = value
        }
        let base = parts[0]
        var low: Int
        var high: Int
        if base == "*" {
            low = spec.min
            high = spec.max
        } else if let dash = base.firstIndex(of: "-") {
            low = try parseValue(String(base[..<dash]), spec, item: item)
            high = try parseValue(String(base[base.index(after: dash)...]), spec, item: item)
            guard low <= high else {
                throw error(spec.name, item, "is a range whose start is after its end")
            }
        } else {
            low = try parseValue(base, spec, item: item)
            // `5/15` is Vixie's short form of `5-59/15`.
            high = parts.count == 2 ? spec.max : low
        }
        var bits: UInt64 = 0
        for value in stride(from: low, through: high, by: step) {
            // Day-of-week 7 is Sunday again.
            bits |= 1 << UInt64(value == 7 && spec.maxAccepted == 7 ? 0 : value)
        }
        return bits
    }

    func parseValue(_ text: String, _ spec: FieldSpec, item: String) throws(CronParseError) -> Int {
        if let index = spec.names.firstIndex(of: text.lowercased()) {
            return index + spec.firstNameValue
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int(text)
        else {
            let names = spec.names.isEmpty ? "" : " or a name \(spec.names.first!)…\(spec.names.last!)"
            throw error(spec.name, item, "is not a number from \(spec.min) to \(spec.maxAccepted)\(names)")
        }
        guard (spec.min...spec.maxAccepted).contains(value) else {
            throw error(spec.name, item, "is out of range; \(text) is not from \(spec.min) to \(spec.maxAccepted)")
        }
        return value
    }

    /// Reads `90s`, `5m`, `1h30m`, `2d` into seconds.
    func parseDuration(_ text: String) throws(CronParseError) -> Int {
        let expected = "expected a duration such as 1s, 5m, 1h30m or 1d"
        var total = 0
        var number = 0
        var haveDigits = false
        var sawUnit = false
        for character in text.lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                number = number * 10 + digit
                haveDigits = true
                guard number <= 366 * 86_400 else { throw error("@every", text, "is too long; at most a year") }
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            default: throw error("@every", text, "has '\(character)'; \(expected)")
            }
            guard haveDigits else { throw error("@every", text, "has a unit without a number; \(expected)") }
            total += number * unit
            guard total <= 366 * 86_400 else { throw error("@every", text, "is too long; at most a year") }
            number = 0
            haveDigits = false
            sawUnit = true
        }
        guard sawUnit, !haveDigits else { throw error("@every", text, "needs a unit after each number; \(expected)") }
        guard total >= 1 else { throw error("@every", text, "is zero; the interval must be at least 1s") }
        return total
    }
}
