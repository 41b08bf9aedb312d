import Foundation
import PostgresNIO
import WarrenCore

/// ``AccountStore`` on PostgreSQL. Each change is one statement: a conditional UPDATE takes the
/// row lock and re-checks its condition, so of many concurrent callers exactly one wins.
final class PostgresAccountStore: AccountStore {
    private let server: PostgresServer

    init(server: PostgresServer) {
        self.server = server
    }

    func createAccount(_ account: Account) async throws {
        // The account and its place in general, in one statement.
        let rows = try await server.query(
            """
            WITH account AS (
                INSERT INTO accounts (name_key, name, password_hash, created_at)
                VALUES (\(AccountName.key(account.name)), \(account.name), \(account.passwordHash), \(Timestamp.truncated(account.createdAt)))
                ON CONFLICT DO NOTHING RETURNING name_key, name, created_at
            )
            INSERT INTO room_members (room_id, member_key, member, joined_at)
            SELECT \(ChatRoom.general), name_key, name, created_at FROM account
            ON CONFLICT (room_id, member_key) DO UPDATE SET member = EXCLUDED.member RETURNING member_key
            """
        )
        if rows.isEmpty { throw StoreError.nameTaken(account.name) }
    }

    func account(named name: String) async throws -> Account? {
        let rows = try await server.query(
            "SELECT name, password_hash, created_at FROM accounts WHERE name_key = \(AccountName.key(name))")
        guard let row = rows.first else { return nil }
        let (name, hash, created) = try row.decode((String, String, Date).self)
        return Account(name: name, passwordHash: hash, createdAt: Timestamp.truncated(created))
    }

    func insertRefreshToken(_ record: RefreshTokenRecord) async throws {
        _ = try await server.query(
            """
            INSERT INTO refresh_tokens (id, family, account, expires_at, used_at, revoked_at)
            VALUES (\(record.id), \(record.family), \(record.account), \(Timestamp.truncated(record.expiresAt)),
                    \(record.usedAt.map(Timestamp.truncated)), \(record.revokedAt.map(Timestamp.truncated)))
            """
        )
    }

    func refreshToken(id: String) async throws -> RefreshTokenRecord? {
        let rows = try await server.query(
            "SELECT id, family, account, expires_at, used_at, revoked_at FROM refresh_tokens WHERE id = \(id)")
        guard let row = rows.first else { return nil }
        let (id, family, account, expires, used, revoked) = try row.decode((String, String, String, Date, Date?, Date?).self)
        return RefreshTokenRecord(
            id: id, family: family, account: account, expiresAt: Timestamp.truncated(expires),
            usedAt: used.map(Timestamp.truncated), revokedAt: revoked.map(Timestamp.truncated)
        )
    }

    func markRefreshTokenUsed(id: String, at: Date) async throws -> Bool {
        let rows = try await server.query(
            """
            UPDATE refresh_tokens SET used_at = \(Timestamp.truncated(at))
            WHERE id = \(id) AND used_at IS NULL AND revoked_at IS NULL RETURNING id
            """
        )
        return rows.count == 1
    }

    func revokeFamily(_ family: String, at: Date) async throws {
        _ = try await server.query(
            "UPDATE refresh_tokens SET revoked_at = \(Timestamp.truncated(at)) WHERE family = \(family) AND revoked_at IS NULL")
    }
}
