import AMQPClient
import WarrenCore

/// Several roles on one connection: the web role's history client and post publisher share one.
///
/// Each role runs in its own task; when one fails, the connection is closed so that the others
/// end too, and ``RoleService`` connects again and runs them all afresh.
public struct RoleGroup: WarrenRole {
    /// The group's name, for logs and the connection name.
    public let name: String
    /// The roles, run side by side.
    public let roles: [any WarrenRole]

    /// Creates a group.
    public init(name: String, roles: [any WarrenRole]) {
        self.name = name
        self.roles = roles
    }

    /// Runs every role on `connection` until all return (graceful shutdown) or one fails.
    public func run(on connection: AMQPConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for role in self.roles {
                group.addTask { try await role.run(on: connection) }
            }
            try await group.waitForAllOrFirstFailure { try? await connection.close() }
        }
    }
}
