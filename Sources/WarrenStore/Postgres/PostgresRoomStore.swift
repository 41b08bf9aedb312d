import Foundation
import PostgresNIO
import WarrenCore

/// ``RoomStore`` on PostgreSQL. A change that checks a limit first locks what the limit counts
/// (the room's row; an advisory lock on the person's name), so concurrent joins take turns.
final class PostgresRoomStore: RoomStore {
    private let server: PostgresServer

    init(server: PostgresServer) {
        self.server = server
    }

    func createRoom(_ room: ChatRoom) async throws {
        let logger = server.logger
        try await server.transaction { connection in
            try await Self.checkRoomsPerPerson(room.createdBy, connection: connection, logger: logger)
            let inserted = try await connection.query(
                """
                INSERT INTO rooms (id, name, visibility, created_by, created_at)
                VALUES (\(room.id), \(room.name), \(room.visibility.rawValue), \(room.createdBy), \(room.createdAt))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).collect().count
            if inserted == 0 { throw StoredRoom.nameTaken(room) }
            try await Self.insertMember(room.createdBy, room: room.id, at: room.createdAt, connection: connection, logger: logger)
        }
    }

    func room(id: String) async throws -> ChatRoom? {
        let rows = try await server.query("SELECT id, name, visibility, created_by, created_at FROM rooms WHERE id = \(id)")
        return try rows.first.map(Self.room)
    }

    func memberships(of member: String) async throws -> [RoomMembership] {
        let rows = try await server.query(
            """
            SELECT rooms.id, rooms.name, rooms.visibility, rooms.created_by, rooms.created_at, room_members.read_up_to
            FROM room_members JOIN rooms ON rooms.id = room_members.room_id WHERE member_key = \(AccountName.key(member))
            """
        )
        return StoredRoom.ordered(
            try rows.map { row in
                let (id, name, visibility, creator, created, read) = try row.decode((String, String, String, String, Date, String?).self)
                return RoomMembership(
                    room: ChatRoom(id: id, name: name, visibility: try StoredRoom.visibility(visibility), createdBy: creator, createdAt: created),
                    readUpTo: read
                )
            }
        )
    }

    func publicRooms(limit: Int) async throws -> [ChatRoom] {
        let rows = try await server.query(
            "SELECT id, name, visibility, created_by, created_at FROM rooms WHERE visibility = 'public' ORDER BY id LIMIT \(max(0, limit))")
        return try rows.map(Self.room)
    }

    func isMember(room: String, member: String) async throws -> Bool {
        if room == ChatRoom.general { return true }
        return try await !server.query(
            "SELECT 1 FROM room_members WHERE room_id = \(room) AND member_key = \(AccountName.key(member))"
        ).isEmpty
    }

    func members(of room: String, limit: Int) async throws -> [String] {
        let rows = try await server.query(
            "SELECT member FROM room_members WHERE room_id = \(room) ORDER BY member_key LIMIT \(max(0, limit))")
        return try rows.map { try $0.decode(String.self) }
    }

    func addMember(_ member: String, to room: ChatRoom, at: Date) async throws -> Bool {
        let logger = server.logger
        return try await server.transaction { connection in
            let key = AccountName.key(member)
            // The room's row is the lock its member count is read under.
            _ = try await connection.query("SELECT id FROM rooms WHERE id = \(room.id) FOR UPDATE", logger: logger).collect()
            let existing = try await connection.query(
                "SELECT 1 FROM room_members WHERE room_id = \(room.id) AND member_key = \(key)", logger: logger
            ).collect()
            if !existing.isEmpty { return false }
            try await Self.checkRoomsPerPerson(member, connection: connection, logger: logger)
            if let limit = MembershipRules.memberLimit(room) {
                let rows = try await connection.query("SELECT COUNT(*)::int8 FROM room_members WHERE room_id = \(room.id)", logger: logger).collect()
                if try (rows.first?.decode(Int.self) ?? 0) >= limit { throw MembershipRules.tooManyMembers(room) }
            }
            try await Self.insertMember(member, room: room.id, at: at, connection: connection, logger: logger)
            return true
        }
    }

    func removeMember(_ member: String, from room: String) async throws -> Bool {
        try await !server.query(
            "DELETE FROM room_members WHERE room_id = \(room) AND member_key = \(AccountName.key(member)) RETURNING room_id"
        ).isEmpty
    }

    func markRead(room: String, member: String, upTo eventID: String) async throws -> Bool {
        let key = AccountName.key(member)
        if room == ChatRoom.general {
            // Everyone is in general: a person without a row (no account) gets one.
            _ = try await server.query(
                """
                INSERT INTO room_members (room_id, member_key, member, joined_at) VALUES (\(room), \(key), \(member), now())
                ON CONFLICT DO NOTHING
                """
            )
        }
        return try await !server.query(
            """
            UPDATE room_members SET read_up_to = \(eventID) WHERE room_id = \(room) AND member_key = \(key)
            AND (read_up_to IS NULL OR read_up_to < \(eventID)) RETURNING room_id
            """
        ).isEmpty
    }

    func directRoom(_ one: String, _ other: String, at: Date) async throws -> ChatRoom {
        let id = try DirectRoom.id(one, other)
        if let existing = try await self.room(id: id) { return existing }
        let room = ChatRoom(id: id, name: "\(one), \(other)", visibility: .direct, createdBy: one, createdAt: at)
        let logger = server.logger
        try await server.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO rooms (id, name, visibility, created_by, created_at)
                VALUES (\(room.id), \(room.name), \(room.visibility.rawValue), \(room.createdBy), \(room.createdAt))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).collect().count
            guard inserted > 0 else { return }
            for member in [one, other] {
                try await Self.checkRoomsPerPerson(member, connection: connection, logger: logger)
                try await Self.insertMember(member, room: id, at: at, connection: connection, logger: logger)
            }
        }
        return try await self.room(id: id) ?? room
    }

    // MARK: Pieces

    /// Locks the person's name for the transaction, then counts their rooms (general takes one
    /// place whether or not it has a row).
    private static func checkRoomsPerPerson(_ member: String, connection: PostgresConnection, logger: Logger) async throws {
        let key = AccountName.key(member)
        _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("warren.rooms." + key)))", logger: logger).collect()
        let rows = try await connection.query(
            "SELECT COUNT(*)::int8 FROM room_members WHERE member_key = \(key) AND room_id <> \(ChatRoom.general)", logger: logger
        ).collect()
        if try (rows.first?.decode(Int.self) ?? 0) + 1 >= SharedRules.roomsPerPersonMax { throw MembershipRules.tooManyRooms(member) }
    }

    private static func insertMember(_ member: String, room: String, at: Date, connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.query(
            """
            INSERT INTO room_members (room_id, member_key, member, joined_at)
            VALUES (\(room), \(AccountName.key(member)), \(member), \(Timestamp.truncated(at))) ON CONFLICT DO NOTHING
            """, logger: logger
        ).collect()
    }

    private static func room(_ row: PostgresRow) throws -> ChatRoom {
        let (id, name, visibility, creator, created) = try row.decode((String, String, String, String, Date).self)
        return ChatRoom(id: id, name: name, visibility: try StoredRoom.visibility(visibility), createdBy: creator, createdAt: created)
    }
}
