// Proof-of-work benchmark: per-path single-thread hash rate, 24-bit solves on all cores, and the
// comparison with the OpenSSL ceiling and the Python original (measured by scripts/bench-pow and
// passed in as options).
import BenchStats
import Foundation
import ProofOfWork

struct Options {
    var seconds = 1.5
    var solves = 20
    var bits = 24
    var opensslBytesPerSecond: Double?
    var pythonHashesPerSecond: Double?

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next().flatMap(Double.init)
            switch argument {
            case "--seconds": seconds = value ?? seconds
            case "--solves": solves = value.map { Int($0) } ?? solves
            case "--bits": bits = value.map { Int($0) } ?? bits
            case "--openssl-bytes-per-second": opensslBytesPerSecond = value
            case "--python-hashes-per-second": pythonHashesPerSecond = value
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// CPU time of the calling thread: `openssl speed` divides by CPU time too (unless -elapsed), so
/// per-core figures compare fairly while other work shares the cores.
func threadCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func millions(_ rate: Double) -> String { String(format: "%.2f M/s", rate / 1e6) }

func percentile(_ sorted: [Double], _ p: Double) -> Double { Percentile.of(sorted, p) ?? 0 }

let options = Options(Array(CommandLine.arguments.dropFirst()))
let challenge = ProofChallenge.make(id: "bench", author: "bench", text: "How fast is this?")
let cores = ProofSolver.defaultWorkerCount
print("Proof-of-work benchmark: \(cores) cores, backends available: \(SHA256Backend.available)")
print("challenge \(challenge) (\(challenge.utf8.count) bytes)")
print("")

// 1. Single-thread hashes/s per path, per CPU second (and per wall second, which load lowers).
var perPath: [(SHA256Backend, Double)] = []
for backend in SHA256Backend.available {
    let solver = ProofSolver(workers: 1, backend: backend)
    let batch: UInt64 = backend == .portable ? 1 << 18 : 1 << 21
    var tried: UInt64 = 0
    var nonce: UInt64 = 0
    let start = now()
    let startCPU = threadCPUTime()
    while now() - start < options.seconds {
        // 64 bits practically never hits, so every nonce in the batch is hashed.
        let result = try solver.search(challenge: challenge, bits: 64, nonces: nonce..<(nonce + batch))
        tried += result.tried
        nonce += batch
    }
    let wall = now() - start
    let cpu = threadCPUTime() - startCPU
    let rate = Double(tried) / cpu
    perPath.append((backend, rate))
    print(
        "single thread \(backend.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(millions(rate)) per CPU second"
            + String(format: " (%@ per wall second, got %.0f%% of a core)", millions(Double(tried) / wall), 100 * cpu / wall))
}

// 2. 24-bit solves on all cores.
var times: [Double] = []
var totalHashes: UInt64 = 0
for index in 0..<options.solves {
    let post = ProofChallenge.make(id: "bench-\(index)", author: "bench", text: "post number \(index) !pow")
    let proof = try await ProofSolver().solve(challenge: post, bits: options.bits)
    precondition(proof.verify(), "benchmark produced an invalid proof")
    times.append(proof.elapsedMilliseconds / 1000)
    totalHashes += proof.hashesTried
}
let sortedTimes = times.sorted()
let median = percentile(sortedTimes, 0.5)
let p90 = percentile(sortedTimes, 0.9)
let allCoreRate = Double(totalHashes) / times.reduce(0, +)
print(
    String(
        format: "%d x %d-bit solves on %d cores (wall clock): median %.3f s, p90 %.3f s, min %.3f s, max %.3f s, %@ overall",
        options.solves, options.bits, cores, median, p90, sortedTimes.first ?? 0, sortedTimes.last ?? 0,
        millions(allCoreRate)))

// 3. The table.
let best = perPath.first { $0.0 == SHA256Backend.best }?.1 ?? 0
print("")
print("Per-core rates are per CPU second, like openssl speed; solve times are wall clock.")
print("")
print("| measure | measured | target | ratio |")
print("|---|---|---|---|")
if let bytes = options.opensslBytesPerSecond {
    let ceiling = bytes / 64
    print("| OpenSSL ceiling per core (64-byte compressions/s) | \(millions(ceiling)) | | |")
    for (backend, rate) in perPath {
        print(
            String(
                format: "| %@ per core | %@ | ≥85%% of ceiling (%@) | %.0f%% of ceiling %@ |",
                backend.rawValue, millions(rate), millions(0.85 * ceiling), 100 * rate / ceiling,
                backend == SHA256Backend.best ? (rate >= 0.85 * ceiling ? "PASS" : "FAIL") : ""))
    }
} else {
    for (backend, rate) in perPath {
        print("| \(backend.rawValue) per core | \(millions(rate)) | (no OpenSSL figure) | |")
    }
}
print(
    String(
        format: "| median %d-bit solve, %d cores | %.3f s (p90 %.3f s) | ≤ 0.400 s | %.2fx %@ |",
        options.bits, cores, median, p90, 0.4 / max(median, 1e-9), median <= 0.4 ? "PASS" : "FAIL"))
if let python = options.pythonHashesPerSecond {
    print("| Python hashlib original, per CPU second | \(millions(python)) | | |")
    print(
        String(
            format: "| %@ per core vs Python | %.0fx | ≥ 50x | %@ |", SHA256Backend.best.rawValue,
            best / python, best / python >= 50 ? "PASS" : "FAIL"))
    print(
        String(
            format: "| all cores vs Python (1 core) | %.0fx | | |", allCoreRate / python))
}
