import Foundation

/// The command line of store-bench.
struct BenchOptions {
    /// Events written per configuration (fewer when `seconds` runs out first).
    var events = 5_000
    /// The most seconds one configuration writes for.
    var seconds = 10.0
    /// `latest(limit: 50)` calls timed.
    var samples = 300
    /// A PostgreSQL database to measure too; its tables are emptied between runs.
    var postgresURL: String?
    /// The folder for the SQLite files (default: a new folder under the temporary directory).
    var directory: String?
    /// A broker to measure the backfill end to end through (the login and history roles run in
    /// this process); none: the store-level read only.
    var amqpURL: String?
    /// Logins timed end to end (after 3 not counted).
    var logins = 30

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        options.postgresURL = ProcessInfo.processInfo.environment["WARREN_BENCH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var iterator = arguments.makeIterator()
        func value(_ flag: String) throws -> String {
            guard let value = iterator.next() else { throw UsageError(description: "\(flag) needs a value") }
            return value
        }
        while let flag = iterator.next() {
            switch flag {
            case "--events":
                guard let n = Int(try value(flag)), n > 0 else { throw UsageError(description: "--events takes a positive integer") }
                options.events = n
            case "--seconds":
                guard let s = Double(try value(flag)), s > 0 else { throw UsageError(description: "--seconds takes a positive number") }
                options.seconds = s
            case "--samples":
                guard let n = Int(try value(flag)), n > 0 else { throw UsageError(description: "--samples takes a positive integer") }
                options.samples = n
            case "--postgres-url": options.postgresURL = try value(flag)
            case "--dir": options.directory = try value(flag)
            case "--amqp-url": options.amqpURL = try value(flag)
            case "--logins":
                guard let n = Int(try value(flag)), n > 0 else { throw UsageError(description: "--logins takes a positive integer") }
                options.logins = n
            default:
                throw UsageError(
                    description: "unknown option \(flag); usage: store-bench [--events N] [--seconds S] [--samples K] [--postgres-url URL] [--dir PATH] [--amqp-url URL] [--logins N]")
            }
        }
        return options
    }
}
