import Foundation
import SQLiteNIO
import WarrenCore

/// ``RoomStore`` on a SQLite file. Every change runs in one IMMEDIATE transaction, so the limit
/// checks and the change they guard are one step, across processes too.
final class SQLiteRoomStore: RoomStore {
    private let database: SQLiteDatabaseFile

    init(database: SQLiteDatabaseFile) {
        self.database = database
    }

    private static let roomColumns = "rooms.id AS id, rooms.name AS name, rooms.visibility AS visibility, rooms.created_by AS created_by, rooms.created_at AS created_at"

    func createRoom(_ room: ChatRoom) async throws {
        try await database.transaction { connection in
            try await Self.checkRoomsPerPerson(room.createdBy, connection: connection)
            let inserted = try await connection.query(
                "INSERT INTO rooms (id, name, visibility, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                [.text(room.id), .text(room.name), .text(room.visibility.rawValue), .text(room.createdBy), Self.instant(room.createdAt)]
            ).count
            if inserted == 0 { throw StoredRoom.nameTaken(room) }
            try await Self.insertMember(room.createdBy, room: room.id, at: room.createdAt, connection: connection)
        }
    }

    func room(id: String) async throws -> ChatRoom? {
        let rows = try await database.read("SELECT \(Self.roomColumns) FROM rooms WHERE id = ?", [.text(id)])
        return try rows.first.map(Self.room)
    }

    func memberships(of member: String) async throws -> [RoomMembership] {
        let rows = try await database.read(
            "SELECT \(Self.roomColumns), room_members.read_up_to AS read_up_to FROM room_members JOIN rooms ON rooms.id = room_members.room_id WHERE member_key = ?",
            [.text(AccountName.key(member))]
        )
        return StoredRoom.ordered(try rows.map { RoomMembership(room: try Self.room($0), readUpTo: $0.column("read_up_to")?.string) })
    }

    func publicRooms(limit: Int) async throws -> [ChatRoom] {
        let rows = try await database.read(
            "SELECT \(Self.roomColumns) FROM rooms WHERE visibility = 'public' ORDER BY id LIMIT ?", [.integer(SQLiteInt64(max(0, limit)))])
        return try rows.map(Self.room)
    }

    func isMember(room: String, member: String) async throws -> Bool {
        if room == ChatRoom.general { return true }
        let rows = try await database.read(
            "SELECT 1 AS one FROM room_members WHERE room_id = ? AND member_key = ?", [.text(room), .text(AccountName.key(member))])
        return !rows.isEmpty
    }

    func members(of room: String, limit: Int) async throws -> [String] {
        let rows = try await database.read(
            "SELECT member FROM room_members WHERE room_id = ? ORDER BY member_key LIMIT ?", [.text(room), .integer(SQLiteInt64(max(0, limit)))])
        return rows.compactMap { $0.column("member")?.string }
    }

    func addMember(_ member: String, to room: ChatRoom, at: Date) async throws -> Bool {
        try await database.transaction { connection in
            let key = AccountName.key(member)
            let existing = try await connection.query(
                "SELECT 1 AS one FROM room_members WHERE room_id = ? AND member_key = ?", [.text(room.id), .text(key)])
            if !existing.isEmpty { return false }
            try await Self.checkRoomsPerPerson(member, connection: connection)
            if let limit = MembershipRules.memberLimit(room) {
                let rows = try await connection.query("SELECT COUNT(*) AS n FROM room_members WHERE room_id = ?", [.text(room.id)])
                if Int(rows.first?.column("n")?.integer ?? 0) >= limit { throw MembershipRules.tooManyMembers(room) }
            }
            try await Self.insertMember(member, room: room.id, at: at, connection: connection)
            return true
        }
    }

    func removeMember(_ member: String, from room: String) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.query(
                "DELETE FROM room_members WHERE room_id = ? AND member_key = ? RETURNING room_id", [.text(room), .text(AccountName.key(member))]
            ).count > 0
        }
    }

    func markRead(room: String, member: String, upTo eventID: String) async throws -> Bool {
        try await database.transaction { connection in
            let key = AccountName.key(member)
            if room == ChatRoom.general {
                // Everyone is in general: a person without a row (no account) gets one.
                _ = try await connection.query(
                    "INSERT INTO room_members (room_id, member_key, member, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [.text(room), .text(key), .text(member), Self.instant(Date())]
                )
            }
            return try await connection.query(
                """
                UPDATE room_members SET read_up_to = ? WHERE room_id = ? AND member_key = ?
                AND (read_up_to IS NULL OR read_up_to < ?) RETURNING room_id
                """,
                [.text(eventID), .text(room), .text(key), .text(eventID)]
            ).count > 0
        }
    }

    func directRoom(_ one: String, _ other: String, at: Date) async throws -> ChatRoom {
        let id = try DirectRoom.id(one, other)
        let room = ChatRoom(id: id, name: "\(one), \(other)", visibility: .direct, createdBy: one, createdAt: at)
        if let existing = try await self.room(id: id) { return existing }
        try await database.transaction { connection in
            let inserted = try await connection.query(
                "INSERT INTO rooms (id, name, visibility, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                [.text(room.id), .text(room.name), .text(room.visibility.rawValue), .text(room.createdBy), Self.instant(room.createdAt)]
            ).count
            guard inserted > 0 else { return }
            for member in [one, other] {
                try await Self.checkRoomsPerPerson(member, connection: connection)
                try await Self.insertMember(member, room: id, at: at, connection: connection)
            }
        }
        return try await self.room(id: id) ?? room
    }

    // MARK: Pieces

    private static func checkRoomsPerPerson(_ member: String, connection: SQLiteConnection) async throws {
        // General is everyone's whether or not it has a row: it takes one place.
        let rows = try await connection.query(
            "SELECT COUNT(*) AS n FROM room_members WHERE member_key = ? AND room_id <> ?", [.text(AccountName.key(member)), .text(ChatRoom.general)])
        if Int(rows.first?.column("n")?.integer ?? 0) + 1 >= SharedRules.roomsPerPersonMax { throw MembershipRules.tooManyRooms(member) }
    }

    private static func insertMember(_ member: String, room: String, at: Date, connection: SQLiteConnection) async throws {
        _ = try await connection.query(
            "INSERT INTO room_members (room_id, member_key, member, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [.text(room), .text(AccountName.key(member)), .text(member), instant(at)]
        )
    }

    private static func room(_ row: SQLiteRow) throws -> ChatRoom {
        guard let id = row.column("id")?.string, let name = row.column("name")?.string, let visibility = row.column("visibility")?.string,
            let creator = row.column("created_by")?.string, let created = row.column("created_at")?.integer
        else { throw StoreError.corruptRow("a rooms row has a missing column") }
        return ChatRoom(
            id: id, name: name, visibility: try StoredRoom.visibility(visibility), createdBy: creator,
            createdAt: StoredEvent.date(milliseconds: Int64(created))
        )
    }

    private static func instant(_ date: Date) -> SQLiteData {
        .integer(SQLiteInt64(StoredEvent.milliseconds(date)))
    }
}
