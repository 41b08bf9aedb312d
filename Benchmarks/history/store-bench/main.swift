// store-bench: sustained events/s written to the history store (SQLite and, given a URL,
// PostgreSQL) with batch sizes 1, 50 and 200, against writing one row per event in its own
// transaction on a plain connection ("db_direct", the original projects' direct mode); then
// the latency of `latest(limit: 50)`, the login service's backfill read; given a broker, the
// backfill end to end too: the history request alone, and a login timed from its request to the
// 50th backfilled event in the new tab's queue (the login and history roles run in-process).
//
//   store-bench [--events N] [--seconds S] [--samples K] [--postgres-url URL] [--dir PATH]
//               [--amqp-url URL] [--logins N]
//
// Prints one JSON object per line for each figure, then a Markdown table.
import Foundation
import Logging
import WarrenCore
import WarrenStore

let options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
var logger = Logger(label: "warren.store-bench")
logger.logLevel = .warning

var writes: [WriteResult] = []
var reads: [ReadResult] = []

let targets: [BenchTarget] = [.sqlite] + (options.postgresURL.map { [.postgres(url: $0)] } ?? [])
for target in targets {
    let runner = try await TargetRunner.make(target, options: options, logger: logger)
    do {
        for mode in [WriteMode.dbDirect, .store(batch: 1), .store(batch: 50), .store(batch: 200)] {
            let result = try await runner.measureWrites(mode)
            writes.append(result)
            print(result.jsonLine)
        }
        var measured = [try await runner.measureLatest(limit: 50)]
        if let amqpURL = options.amqpURL {
            measured += try await runner.measureBackfill(amqpURL: amqpURL)
        }
        for read in measured { print(read.jsonLine) }
        reads += measured
    } catch {
        // The store is closed either way; the error is the run's.
        await runner.finish()
        FileHandle.standardError.write(Data("store-bench: \(target.name): \(error)\n".utf8))
        exit(1)
    }
    await runner.finish()
}
print("")
print(Report.markdown(writes: writes, reads: reads, options: options))
