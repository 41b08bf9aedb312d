import CSHA256
import Foundation

/// How far a running search has got, reported to a progress handler.
public struct SolveProgress: Sendable, Hashable {
    /// Hashes computed so far by all workers.
    public var hashesDone: UInt64
    /// Time since the search started.
    public var elapsed: Duration
    /// `hashesDone` per second of `elapsed`.
    public var hashesPerSecond: Double

    /// Creates a progress report.
    public init(hashesDone: UInt64, elapsed: Duration, hashesPerSecond: Double) {
        self.hashesDone = hashesDone
        self.elapsed = elapsed
        self.hashesPerSecond = hashesPerSecond
    }
}

/// The result of searching one range of nonces on the calling thread.
public struct RangeSearchResult: Sendable, Hashable {
    /// Nonces hashed (the hit included).
    public var tried: UInt64
    /// The first nonce in the range that meets the difficulty, if any.
    public var nonce: UInt64?
    /// Lowercase hex hash of the hit, if any.
    public var hash: String?
}

/// Searches for proofs of work on dedicated threads.
///
/// The workers take chunks of consecutive nonces from a shared counter, so the nonce space is
/// split between them without overlap and the proof's nonce stays small. They run on their own
/// threads (not the Swift cooperative pool) and resume the caller through a continuation.
public struct ProofSolver: Sendable {
    /// Worker threads to run; defaults to the number of active cores.
    public var workers: Int
    /// The SHA-256 implementation to use; defaults to the fastest available.
    public var backend: SHA256Backend
    /// Least time between two progress reports.
    public var progressInterval: Duration

    /// The difficulty Warren uses unless configured otherwise (WARREN_POW_BITS).
    public static let defaultBits = 24

    /// Nonces per chunk: about 2 ms with SHA-NI, so chunk bookkeeping is noise.
    static let chunkSize: UInt64 = 1 << 16

    /// Creates a solver.
    ///
    /// - Parameters:
    ///   - workers: threads to use; `nil` means one per active core.
    ///   - backend: the SHA-256 path to run.
    ///   - progressInterval: least time between two progress reports (at least 100 ms is sensible).
    public init(
        workers: Int? = nil, backend: SHA256Backend = .best, progressInterval: Duration = .milliseconds(100)
    ) {
        self.workers = workers ?? Self.defaultWorkerCount
        self.backend = backend
        self.progressInterval = progressInterval
    }

    /// One per active core.
    public static var defaultWorkerCount: Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Finds a nonce whose proof hash with `challenge` starts with `bits` zero bits.
    ///
    /// Cancelling the calling task stops every worker within a few thousand hashes; the call then
    /// throws `CancellationError` once all of them have stopped.
    ///
    /// - Parameters:
    ///   - challenge: the string the nonce is appended to, usually from ``ProofChallenge/make(id:author:text:)``.
    ///   - bits: required leading zero bits, 1...64.
    ///   - progress: called from a worker thread at most once per `progressInterval`; keep it short.
    /// - Throws: ``ProofOfWorkError`` for invalid arguments, `CancellationError` when cancelled.
    public func solve(
        challenge: String, bits: Int, progress: (@Sendable (SolveProgress) -> Void)? = nil
    ) async throws -> Proof {
        try ProofOfWorkError.checkBits(bits)
        guard workers >= 1 else {
            throw ProofOfWorkError(code: .invalidWorkerCount, message: "workers must be at least 1, got \(workers)")
        }
        try checkBackend()
        let search = ParallelSearch(
            challenge: challenge, bits: bits, backend: backend, workers: workers,
            progressIntervalNs: UInt64(max(0, progressInterval.seconds * 1e9)), progress: progress)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                search.start(continuation)
            }
        } onCancel: {
            search.cancel()
        }
    }

    /// Finds a proof for a post: ``ProofChallenge/make(id:author:text:)`` then ``solve(challenge:bits:progress:)``.
    public func solve(
        id: String, author: String, text: String, bits: Int,
        progress: (@Sendable (SolveProgress) -> Void)? = nil
    ) async throws -> Proof {
        try await solve(challenge: ProofChallenge.make(id: id, author: author, text: text), bits: bits, progress: progress)
    }

    /// Tries the nonces of `nonces` in order on the calling thread and stops at the first hit.
    ///
    /// Blocks for as long as the range takes; meant for benchmarks and tests.
    public func search(challenge: String, bits: Int, nonces: Range<UInt64>) throws -> RangeSearchResult {
        try ProofOfWorkError.checkBits(bits)
        try checkBackend()
        let job = SearchJob(challenge: challenge, backend: backend)
        var tried: UInt64 = 0
        var start = nonces.lowerBound
        while start < nonces.upperBound {
            let count = min(nonces.upperBound - start, Self.chunkSize)
            let result = withUnsafePointer(to: job.raw) {
                csha256_search(backend.code, $0, start, count, UInt32(bits), nil)
            }
            tried += result.tried
            if result.found != 0 {
                return RangeSearchResult(tried: tried, nonce: result.nonce, hash: result.digestBytes.hexString)
            }
            start += count
        }
        return RangeSearchResult(tried: tried, nonce: nil, hash: nil)
    }

    private func checkBackend() throws(ProofOfWorkError) {
        guard backend.isAvailable else {
            throw ProofOfWorkError(
                code: .backendUnavailable, message: "SHA-256 backend \(backend) cannot run on this machine")
        }
    }
}

extension csha256_result {
    var digestBytes: [UInt8] {
        withUnsafeBytes(of: digest) { Array($0) }
    }
}
