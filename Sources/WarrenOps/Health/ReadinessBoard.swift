import NIOConcurrencyHelpers
import WarrenCore

/// What `/readyz` reports: every role's broker connection in this process, and the checks of
/// what else it needs (its store).
///
/// Each ``RoleService`` enrolls when it starts (``enroll(_:)``), says when it is connected and
/// when it lost the connection, and leaves when it stops; the wiring adds a check for each
/// store. The process is ready while every enrolled role is connected and every check passes.
///
/// The process's board is ``process``; ``current`` is the board of the running task (the
/// process's unless a test binds its own with `ReadinessBoard.$current.withValue(board) { ... }`,
/// which the tasks it starts inherit).
public final class ReadinessBoard: Sendable {
    /// The board of the whole process.
    public static let process = ReadinessBoard()
    /// The board the running task reports to.
    @TaskLocal public static var current: ReadinessBoard = ReadinessBoard.process

    private struct Entry {
        let role: String
        var connected: Bool
        var everConnected: Bool
    }

    private struct Check {
        let timeout: Duration
        let run: @Sendable () async throws -> Void
    }

    private let entries = NIOLockedValueBox<[Int: Entry]>([:])
    private let checks = NIOLockedValueBox<[String: Check]>([:])
    private let nextID = NIOLockedValueBox(0)

    /// An empty board.
    public init() {}

    /// A role starts: it counts as not ready until it is connected.
    public func enroll(_ role: String) -> ReadinessEnrollment {
        let id = self.nextID.withLockedValue { id in
            defer { id += 1 }
            return id
        }
        self.entries.withLockedValue { $0[id] = Entry(role: role, connected: false, everConnected: false) }
        BrokerMetrics.disconnected(role: role)
        return ReadinessEnrollment(board: self, id: id, role: role)
    }

    /// Adds (or replaces) a check named `name`: ready when `check` returns within `timeout`.
    public func addCheck(_ name: String, timeout: Duration = .seconds(2), _ check: @escaping @Sendable () async throws -> Void) {
        self.checks.withLockedValue { $0[name] = Check(timeout: timeout, run: check) }
    }

    /// Removes the check named `name`.
    public func removeCheck(_ name: String) {
        self.checks.withLockedValue { $0[name] = nil }
    }

    /// Marks a connection; returns whether it is one made again after a loss.
    fileprivate func setConnected(_ id: Int, _ connected: Bool) -> Bool {
        self.entries.withLockedValue { entries in
            guard var entry = entries[id] else { return false }
            let again = connected && entry.everConnected
            entry.connected = connected
            entry.everConnected = entry.everConnected || connected
            entries[id] = entry
            return again
        }
    }

    fileprivate func remove(_ id: Int) {
        self.entries.withLockedValue { $0[id] = nil }
    }

    /// The roles and the checks now; the checks run side by side, each within its timeout.
    public func report() async -> ReadinessReport {
        let roles = self.entries.withLockedValue { entries in
            entries.sorted { $0.key < $1.key }.map { ReadinessReport.Role(role: $0.value.role, connected: $0.value.connected) }
        }
        let checks = self.checks.withLockedValue { $0 }
        let results = await withTaskGroup(of: ReadinessReport.Check.self) { group in
            for (name, check) in checks {
                group.addTask {
                    do {
                        try await withDeadline(check.timeout, "the \(name) check") { try await check.run() }
                        return ReadinessReport.Check(name: name, ok: true, error: nil)
                    } catch {
                        return ReadinessReport.Check(name: name, ok: false, error: "\(error)")
                    }
                }
            }
            var results: [ReadinessReport.Check] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.name < $1.name }
        }
        return ReadinessReport(roles: roles, checks: results)
    }
}

/// One role's place on a ``ReadinessBoard``, for its ``RoleService``.
public struct ReadinessEnrollment: Sendable {
    let board: ReadinessBoard
    let id: Int
    let role: String

    /// The role holds a broker connection (again, after a loss: a reconnect is counted).
    public func connected() {
        let again = self.board.setConnected(self.id, true)
        BrokerMetrics.connected(role: self.role, again: again)
    }

    /// The role lost its connection and is connecting again.
    public func disconnected() {
        _ = self.board.setConnected(self.id, false)
        BrokerMetrics.disconnected(role: self.role)
    }

    /// The role stopped: it no longer counts.
    public func leave() {
        self.board.remove(self.id)
    }
}

/// The body of `/readyz`.
public struct ReadinessReport: Codable, Sendable, Equatable {
    /// A role's connection.
    public struct Role: Codable, Sendable, Equatable {
        public var role: String
        public var connected: Bool

        public init(role: String, connected: Bool) {
            self.role = role
            self.connected = connected
        }
    }

    /// A check's outcome.
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var error: String?

        public init(name: String, ok: Bool, error: String?) {
            self.name = name
            self.ok = ok
            self.error = error
        }
    }

    /// `ready` or `not ready`.
    public var status: String
    /// Every role's connection, in the order they started.
    public var roles: [Role]
    /// Every check, by name.
    public var checks: [Check]

    /// A report of `roles` and `checks`.
    public init(roles: [Role], checks: [Check]) {
        self.roles = roles
        self.checks = checks
        self.status = roles.allSatisfy(\.connected) && checks.allSatisfy(\.ok) ? "ready" : "not ready"
    }

    /// Whether everything is connected and every check passed.
    public var isReady: Bool { self.status == "ready" }
}
