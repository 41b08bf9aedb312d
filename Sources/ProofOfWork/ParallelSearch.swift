import CSHA256
import Foundation

/// One multi-threaded search: the shared counters the workers use and the continuation the
/// last worker to stop resumes.
final class ParallelSearch: @unchecked Sendable {
    // Written only through the CSHA256 atomics, so workers can share them without a lock.
    private let stop: UnsafeMutablePointer<UInt32>
    private let nextChunk: UnsafeMutablePointer<UInt64>
    private let hashesDone: UnsafeMutablePointer<UInt64>
    private let lastReportNs: UnsafeMutablePointer<UInt64>
    // Read-only after init.
    private let job: UnsafeMutablePointer<csha256_job>

    private let challenge: String
    private let bits: Int
    private let backend: SHA256Backend
    private let workers: Int
    private let progressIntervalNs: UInt64
    private let progress: (@Sendable (SolveProgress) -> Void)?
    private let startNs: UInt64

    // Guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Proof, any Error>?
    private var running = 0
    private var cancelled = false
    private var hit: csha256_result?

    /// Chunks beyond this would run past UInt64.max.
    private static let chunkCount = UInt64.max / ProofSolver.chunkSize

    init(
        challenge: String, bits: Int, backend: SHA256Backend, workers: Int,
        progressIntervalNs: UInt64, progress: (@Sendable (SolveProgress) -> Void)?
    ) {
        self.challenge = challenge
        self.bits = bits
        self.backend = backend
        self.workers = workers
        self.progressIntervalNs = progressIntervalNs
        self.progress = progress
        stop = .allocate(capacity: 1)
        stop.initialize(to: 0)
        nextChunk = .allocate(capacity: 1)
        nextChunk.initialize(to: 0)
        hashesDone = .allocate(capacity: 1)
        hashesDone.initialize(to: 0)
        job = .allocate(capacity: 1)
        job.initialize(to: SearchJob(challenge: challenge, backend: backend).raw)
        startNs = csha256_monotonic_ns()
        lastReportNs = .allocate(capacity: 1)
        lastReportNs.initialize(to: startNs)
    }

    deinit {
        stop.deallocate()
        nextChunk.deallocate()
        hashesDone.deallocate()
        lastReportNs.deallocate()
        job.deallocate()
    }

    /// Starts the workers; the last one to stop resumes `continuation`.
    func start(_ continuation: CheckedContinuation<Proof, any Error>) {
        lock.lock()
        self.continuation = continuation
        running = workers
        lock.unlock()
        for index in 0..<workers {
            let thread = Thread { [self] in
                self.work()
                self.finished()
            }
            thread.name = "pow-worker-\(index)"
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }

    /// Asks the workers to stop; they notice within a few thousand hashes.
    func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
        csha256_atomic_store32(stop, 1)
    }

    private func work() {
        let code = backend.code
        let bits = UInt32(bits)
        while csha256_atomic_load32(stop) == 0 {
            let chunk = csha256_atomic_fetch_add64(nextChunk, 1)
            guard chunk < Self.chunkCount else { return }
            let result = csha256_search(code, job, chunk * ProofSolver.chunkSize, ProofSolver.chunkSize, bits, stop)
            let done = csha256_atomic_fetch_add64(hashesDone, result.tried) + result.tried
            if result.found != 0 {
                lock.lock()
                if hit == nil { hit = result }
                lock.unlock()
                csha256_atomic_store32(stop, 1)
                return
            }
            report(done)
        }
    }

    private func report(_ done: UInt64) {
        guard let progress else { return }
        let now = csha256_monotonic_ns()
        let last = csha256_atomic_load64(lastReportNs)
        guard now &- last >= progressIntervalNs, csha256_atomic_cas64(lastReportNs, last, now) != 0 else { return }
        let elapsedNs = now - startNs
        progress(
            SolveProgress(
                hashesDone: done, elapsed: .nanoseconds(Int64(elapsedNs)),
                hashesPerSecond: Double(done) / max(Double(elapsedNs) / 1e9, 1e-9)))
    }

    private func finished() {
        lock.lock()
        running -= 1
        guard running == 0, let continuation else {
            lock.unlock()
            return
        }
        self.continuation = nil
        let hit = self.hit
        let cancelled = self.cancelled
        lock.unlock()

        let elapsedNs = csha256_monotonic_ns() - startNs
        let tried = csha256_atomic_load64(hashesDone)
        if let hit {
            continuation.resume(
                returning: Proof(
                    bits: bits, challenge: challenge, nonce: hit.nonce, hash: hit.digestBytes.hexString,
                    hashesTried: tried, elapsed: .nanoseconds(Int64(elapsedNs)),
                    hashesPerSecond: Double(tried) / max(Double(elapsedNs) / 1e9, 1e-9)))
        } else if cancelled {
            continuation.resume(throwing: CancellationError())
        } else {
            continuation.resume(
                throwing: ProofOfWorkError(
                    code: .nonceSpaceExhausted, message: "no nonce in 0...UInt64.max meets \(bits) bits"))
        }
    }
}
