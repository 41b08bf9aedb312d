import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// One SQLite database file, opened for the store: a writer connection that one task at a time
/// uses (transactions included) and a reader connection for queries, which WAL mode lets run
/// beside a write.
///
/// Each file has its own two threads for SQLite's blocking calls: a connection waiting out
/// another's lock (the busy timeout sleeps in its thread) then never starves the other
/// connections, even when one process opens the same file twice (`warren up`).
final class SQLiteDatabaseFile: Sendable {
    /// How long a connection waits for another process's lock before failing with SQLITE_BUSY.
    static let busyTimeoutMilliseconds = 10_000

    let path: String
    private let writer: SQLiteConnection
    private let reader: SQLiteConnection
    private let threads: NIOThreadPool
    private let gate = SerialGate()
    let logger: Logger

    private init(path: String, writer: SQLiteConnection, reader: SQLiteConnection, threads: NIOThreadPool, logger: Logger) {
        self.path = path
        self.writer = writer
        self.reader = reader
        self.threads = threads
        self.logger = logger
    }

    /// Opens (creating when missing) the file at `path`, its folder too, in WAL mode.
    static func open(path: String, logger: Logger) async throws -> SQLiteDatabaseFile {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        var opened: [SQLiteConnection] = []
        do {
            let writer = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threads, logger: logger, on: eventLoop)
            opened.append(writer)
            // The busy timeout replaces sqlite-nio's default busy handler, which retries without
            // sleeping; it must come first, as switching to WAL can itself meet a lock.
            try await configure(writer)
            _ = try await writer.query("PRAGMA journal_mode = WAL")
            let reader = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threads, logger: logger, on: eventLoop)
            opened.append(reader)
            try await configure(reader)
            return SQLiteDatabaseFile(path: path, writer: writer, reader: reader, threads: threads, logger: logger)
        } catch {
            for connection in opened { try? await connection.close() }
            try? await threads.shutdownGracefully()
            throw error
        }
    }

    private static func configure(_ connection: SQLiteConnection) async throws {
        _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
        // NORMAL is durable against a crash of the process (what history's ack-after-commit
        // needs); only a power cut can lose the last commits, and it never corrupts the file.
        _ = try await connection.query("PRAGMA synchronous = NORMAL")
        _ = try await connection.query("PRAGMA foreign_keys = ON")
    }

    /// Runs a read-only statement on the reader connection.
    func read(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await reader.query(sql, binds)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` on the writer, rolling back when it throws.
    /// IMMEDIATE takes the write lock at once, so two processes starting together queue here
    /// (for up to the busy timeout) instead of failing half-way.
    func transaction<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await gate.run { [writer, logger] in
            _ = try await writer.query("BEGIN IMMEDIATE")
            do {
                let result = try await body(writer)
                _ = try await writer.query("COMMIT")
                return result
            } catch {
                do {
                    // Not in this task: when it was cancelled (the history role's broker
                    // connection went mid-batch) a rollback here would throw CancellationError
                    // unrun, leave the transaction open, and fail every later BEGIN ("cannot
                    // start a transaction within a transaction"), wedging the writer.
                    try await Task.detached { _ = try await writer.query("ROLLBACK") }.value
                } catch let rollbackError {
                    logger.error("SQLite rollback failed", metadata: ["error": "\(rollbackError)"])
                }
                throw error
            }
        }
    }

    /// Closes both connections and stops the threads.
    func close() async {
        for connection in [reader, writer] {
            do {
                try await connection.close()
            } catch {
                logger.warning("closing a SQLite connection failed", metadata: ["error": "\(error)"])
            }
        }
        do {
            try await threads.shutdownGracefully()
        } catch {
            logger.warning("stopping the SQLite threads failed", metadata: ["error": "\(error)"])
        }
    }
}
