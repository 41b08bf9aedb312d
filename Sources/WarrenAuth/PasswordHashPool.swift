// Thread and NSCondition: the pool's threads are its own, not Dispatch's or the cooperative pool's.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs password hashing on threads of its own, with a bounded queue.
///
/// A PBKDF2 hash costs about a quarter of a second of CPU, so hashing must neither run on an
/// event loop or the Swift cooperative pool (every request, and the broker's `/auth/*` questions,
/// would wait behind it) nor queue without limit (a flood of registrations would keep every core
/// busy). The pool has a fixed number of threads, lowered in priority on Linux so the event loops
/// come first, and takes at most ``queueCapacity`` jobs waiting beyond those running: a job
/// offered when the queue is full is refused at once with ``Full``.
///
/// The threads stop once the pool is released. ``unbounded()`` is the way Warren hashed before
/// the pool, on Dispatch's shared threads with no bound, kept to measure what the pool is worth.
public final class PasswordHashPool: Sendable {
    /// The queue was full: nothing was run. Try again after ``retryAfter`` seconds.
    public struct Full: Error, Sendable, Hashable, CustomStringConvertible {
        /// Seconds after which a new try may find room.
        public var retryAfter: Int64
        /// Words for the log.
        public var description: String { "the password hashing queue is full; try again in \(retryAfter) s" }
    }

    /// How many threads hash at once; nil for ``unbounded()``.
    public let threads: Int?
    /// How many jobs may wait for a thread; nil for ``unbounded()``.
    public let queueCapacity: Int?
    private let queue: JobQueue?

    /// Starts a pool.
    /// - Parameters:
    ///   - threads: the hashing threads (at least 1); by default half the cores, at least one,
    ///     so the other half stays free for the event loops.
    ///   - queueCapacity: the most jobs waiting beyond those running (0: none waits).
    ///   - niceness: how much lower the threads' priority is (Linux `nice`, 0 to 19).
    public init(threads: Int = PasswordHashPool.defaultThreads, queueCapacity: Int = 16, niceness: Int32 = 10) {
        precondition(threads >= 1 && queueCapacity >= 0, "a hash pool needs a thread and a queue of 0 or more")
        self.threads = threads
        self.queueCapacity = queueCapacity
        let queue = JobQueue(capacity: queueCapacity, threads: threads)
        self.queue = queue
        for index in 0..<threads {
            // Named from inside: on Linux a name set before start() does not reach the thread.
            Thread {
                Thread.current.name = "warren-hash-\(index)"
                queue.work(niceness: niceness)
            }.start()
        }
    }

    private init(unbounded: Void) {
        self.threads = nil
        self.queueCapacity = nil
        self.queue = nil
    }

    /// No pool: every job goes to Dispatch's shared threads at once, without a bound (how
    /// Warren hashed before). For comparison in benchmarks only.
    public static func unbounded() -> PasswordHashPool { PasswordHashPool(unbounded: ()) }

    /// Half the cores of this machine, at least one.
    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    deinit {
        self.queue?.close()
    }

    /// Runs `work` on a pool thread and returns its result, or throws ``Full`` at once when the
    /// queue is full. Not cancellable once queued: a hash is short and bounded.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(Full) -> T {
        let result: Result<T, Full> = await withCheckedContinuation { continuation in
            // The job returns its caller's resumption, which the thread runs once it counts as
            // idle again: a caller that offers its next job at once finds the room it left.
            let job: Job = {
                let value = work()
                return { continuation.resume(returning: .success(value)) }
            }
            guard let queue = self.queue else {
                DispatchQueue.global().async { job()() }
                return
            }
            if !queue.offer(job) {
                continuation.resume(returning: .failure(Full(retryAfter: 1)))
            }
        }
        return try result.get()
    }

    /// Jobs waiting for a thread now (not those running); 0 for ``unbounded()``.
    public var waiting: Int { self.queue?.waiting ?? 0 }
}

/// A job: runs the work and returns what resumes its caller.
private typealias Job = @Sendable () -> @Sendable () -> Void

/// The jobs waiting for the pool's threads, and the threads' loop. Shared with the threads, so
/// they can outlive the pool object long enough to see it closed.
private final class JobQueue: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closed = false
    private let capacity: Int
    private var idle: Int

    init(capacity: Int, threads: Int) {
        self.capacity = capacity
        self.idle = threads
    }

    /// Takes a job if a thread is idle or the queue has room; false when it has none.
    func offer(_ job: @escaping Job) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        // Jobs not yet taken by an idle thread count against the queue.
        guard !self.closed, self.jobs.count < self.capacity + self.idle else { return false }
        self.jobs.append(job)
        self.condition.signal()
        return true
    }

    var waiting: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return max(0, self.jobs.count - self.idle)
    }

    func close() {
        self.condition.lock()
        self.closed = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// A thread's loop: run jobs until the pool is closed and none is left.
    func work(niceness: Int32) {
        #if os(Linux)
        // On Linux the nice value is a thread's own: this lowers only the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
        while true {
            self.condition.lock()
            while self.jobs.isEmpty, !self.closed { self.condition.wait() }
            if self.jobs.isEmpty {
                self.condition.unlock()
                return
            }
            let job = self.jobs.removeFirst()
            self.idle -= 1
            self.condition.unlock()
            let resume = job()
            self.condition.lock()
            self.idle += 1
            self.condition.unlock()
            resume()
        }
    }
}
