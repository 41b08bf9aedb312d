// store-bench: sustained events/s written to the history store (SQLite and, given a URL,
// PostgreSQL) with batch sizes 1, 50 and 200, against writing one row per event in its own
// transaction on a plain connection ("db_direct", the original projects' direct mode); then
// the latency of `latest(limit: 50)`, the login service's backfill read.
//
//   store-bench [--events N] [--seconds S] [--samples K] [--postgres-url URL] [--dir PATH]
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
    for mode in [WriteMode.dbDirect, .store(batch: 1), .store(batch: 50), .store(batch: 200)] {
        let result = try await runner.measureWrites(mode)
        writes.append(result)
        print(result.jsonLine)
    }
    let read = try await runner.measureLatest(limit: 50)
    reads.append(read)
    print(read.jsonLine)
    await runner.finish()
}
print("")
print(Report.markdown(writes: writes, reads: reads, options: options))
