import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing
import WarrenAuth
import WarrenCore
import WarrenStore
import WarrenWeb

/// The web role, run in-process on the port the test broker's HTTP auth backend asks
/// (`WARREN_AUTH_HTTP_URL`, exported by scripts/test), with accounts in memory.
enum AuthWebRole {
    static var authURL: URL? {
        BrokerEnvironment.environment["WARREN_AUTH_HTTP_URL"].flatMap(URL.init(string:))
    }

    /// True when the broker was started with an auth URL a test can serve.
    static var configured: Bool { authURL?.port != nil }

    static var port: Int { authURL?.port ?? 0 }

    /// A signing key and an account store; the same values make other services that share them.
    struct Keys: Sendable {
        let key = SigningKey.generate()
        let store: any AccountStore

        /// Another issuer, with accounts in memory (a forger's key, say).
        static func inMemory() -> Keys { Keys(store: MemoryAccountStore()) }

        func accounts(now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) -> AccountService {
            AccountService(store: store, key: key, hasher: PasswordHasher(rounds: 1_000), now: now, logger: quietLogger)
        }
    }

    /// Runs `body` with a fresh key and a real SQLite account store in a temporary folder,
    /// closed and removed afterwards.
    static func withKeys<T: Sendable>(_ body: (Keys) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try await Store.open(url: "sqlite:" + folder.appendingPathComponent("warren.sqlite").path, logger: quietLogger)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(Keys(store: store.accounts)))
        } catch {
            result = .failure(error)
        }
        await store.close()
        try? FileManager.default.removeItem(at: folder)
        return try result.get()
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "warren.test.web")
        logger.logLevel = .warning
        return logger
    }

    /// Runs the web role for `prefix` while `body` runs, then stops it.
    ///
    /// One at a time across every suite (there is one port the broker asks): a second caller
    /// waits until the first has stopped its web role.
    /// - Parameter connectionsPerAddress: the web role's limit of open connections per address.
    static func with<T: Sendable>(
        prefix: String, accounts: AccountService,
        connectionsPerAddress: Int = WarrenConfiguration.defaults.httpConnectionsPerAddress,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await portLock.exclusively {
            try await serve(prefix: prefix, accounts: accounts, connectionsPerAddress: connectionsPerAddress, body)
        }
    }

    private static let portLock = AsyncLock()

    private static func serve<T: Sendable>(
        prefix: String, accounts: AccountService, connectionsPerAddress: Int, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let configuration = WebConfiguration(
            host: "127.0.0.1", port: port, webRoot: FileManager.default.temporaryDirectory.path,
            stompURL: BrokerEnvironment.stompURL.absoluteString, stompVHost: BrokerEnvironment.vhost, prefix: prefix,
            connectionsPerAddress: connectionsPerAddress
        )
        let app = buildApplication(configuration: configuration, brokerReachable: { true }, accounts: accounts, logger: quietLogger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: quietLogger)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            tasks.addTask {
                defer { Task { await group.triggerGracefulShutdown() } }
                try await waitForPort(port)
                return try await body()
            }
            var result: T?
            for try await value in tasks where value != nil { result = value }
            guard let result else { throw TestFailure("the web role stopped before the test ended") }
            return result
        }
    }

    /// Waits until something accepts connections on `port` (at most 10 s).
    static func waitForPort(_ port: Int) async throws {
        for _ in 0..<100 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200)).connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the web role did not listen on 127.0.0.1:\(port) within 10 s")
    }

    /// POSTs JSON to the web role over a real socket and returns the status and body.
    static func postJSON(_ path: String, _ json: String) async throws -> (status: Int, headers: String, body: String) {
        try await post(path, contentType: "application/json", json)
    }

    /// POSTs a body to the web role over a real socket and returns the status and body.
    static func post(_ path: String, contentType: String, _ body: String) async throws -> (status: Int, headers: String, body: String) {
        try await send(
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: \(contentType)\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
    }

    /// GETs a path of the web role over a real socket.
    static func get(_ path: String) async throws -> (status: Int, headers: String, body: String) {
        try await send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
    }

    /// Sends one request, as written, over a new connection and reads the answer until the web
    /// role closes the connection.
    static func send(_ request: String) async throws -> (status: Int, headers: String, body: String) {
        try await withTCPSession(host: "127.0.0.1", port: port) { session in
            try await session.write(Array(request.utf8))
            var received = ByteBuffer()
            do {
                _ = try await session.read { (buffer: inout ByteBuffer) -> Bool? in
                    received.writeBuffer(&buffer)
                    return nil
                }
            } catch is TCPSession.Closed {}
            let text = String(buffer: received)
            guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
                throw TestFailure("not an HTTP response: \(text.prefix(200))")
            }
            return (status, String(text[..<split.lowerBound]), String(text[split.upperBound...]))
        }
    }
}

/// A lock for async code: one holder at a time, the others wait their turn (first come, first
/// served). Waiting is not cancellable, so a holder must finish on its own (tests have timeouts).
actor AsyncLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func exclusively<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await self.acquire()
        defer { self.release() }
        return try await body()
    }

    private func acquire() async {
        guard self.held else {
            self.held = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    private func release() {
        if self.waiters.isEmpty {
            self.held = false
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}
