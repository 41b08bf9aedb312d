import Foundation
import SQLiteNIO
import WarrenCore

/// ``AccountStore`` on a SQLite file. Every change is one statement in its own IMMEDIATE
/// transaction, so "exactly one caller wins" holds across processes too.
final class SQLiteAccountStore: AccountStore {
    private let database: SQLiteDatabaseFile

    init(database: SQLiteDatabaseFile) {
        self.database = database
    }

    func createAccount(_ account: Account) async throws {
        // The account and its place in general, in one transaction.
        let inserted = try await database.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO accounts (name_key, name, password_hash, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING name_key
                """,
                [
                    .text(AccountName.key(account.name)), .text(account.name), .text(account.passwordHash),
                    .integer(SQLiteInt64(StoredEvent.milliseconds(account.createdAt))),
                ]
            ).count
            if inserted > 0 {
                _ = try await connection.query(
                    "INSERT INTO room_members (room_id, member_key, member, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [
                        .text(ChatRoom.general), .text(AccountName.key(account.name)), .text(account.name),
                        .integer(SQLiteInt64(StoredEvent.milliseconds(account.createdAt))),
                    ]
                )
            }
            return inserted
        }
        if inserted == 0 { throw StoreError.nameTaken(account.name) }
    }

    func account(named name: String) async throws -> Account? {
        let rows = try await database.read(
            "SELECT name, password_hash, created_at FROM accounts WHERE name_key = ?", [.text(AccountName.key(name))])
        guard let row = rows.first else { return nil }
        guard let name = row.column("name")?.string, let hash = row.column("password_hash")?.string,
            let created = row.column("created_at")?.integer
        else { throw StoreError.corruptRow("an accounts row has a missing column") }
        return Account(name: name, passwordHash: hash, createdAt: StoredEvent.date(milliseconds: Int64(created)))
    }

    func insertRefreshToken(_ record: RefreshTokenRecord) async throws {
        _ = try await database.transaction { connection in
            try await connection.query(
                """
                INSERT INTO refresh_tokens (id, family, account, expires_at, used_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(record.id), .text(record.family), .text(record.account),
                    Self.instant(record.expiresAt), Self.instant(record.usedAt), Self.instant(record.revokedAt),
                ]
            ).count
        }
    }

    func refreshToken(id: String) async throws -> RefreshTokenRecord? {
        let rows = try await database.read(
            "SELECT id, family, account, expires_at, used_at, revoked_at FROM refresh_tokens WHERE id = ?", [.text(id)])
        guard let row = rows.first else { return nil }
        guard let id = row.column("id")?.string, let family = row.column("family")?.string,
            let account = row.column("account")?.string, let expires = row.column("expires_at")?.integer
        else { throw StoreError.corruptRow("a refresh_tokens row has a missing column") }
        return RefreshTokenRecord(
            id: id, family: family, account: account, expiresAt: StoredEvent.date(milliseconds: Int64(expires)),
            usedAt: row.column("used_at")?.integer.map { StoredEvent.date(milliseconds: Int64($0)) },
            revokedAt: row.column("revoked_at")?.integer.map { StoredEvent.date(milliseconds: Int64($0)) }
        )
    }

    func markRefreshTokenUsed(id: String, at: Date) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.query(
                "UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL RETURNING id",
                [Self.instant(at), .text(id)]
            ).count == 1
        }
    }

    func revokeFamily(_ family: String, at: Date) async throws {
        _ = try await database.transaction { connection in
            try await connection.query(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
                [Self.instant(at), .text(family)]
            ).count
        }
    }

    private static func instant(_ date: Date?) -> SQLiteData {
        date.map { .integer(SQLiteInt64(StoredEvent.milliseconds($0))) } ?? .null
    }
}
