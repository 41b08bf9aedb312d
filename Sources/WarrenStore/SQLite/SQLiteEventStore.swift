import Foundation
import SQLiteNIO
import WarrenCore

/// ``EventStore`` on a SQLite file: batches in one transaction, search through FTS5.
final class SQLiteEventStore: EventStore {
    private let database: SQLiteDatabaseFile
    /// Rows per INSERT statement: 7 parameters each stays far below SQLite's variable limit.
    static let rowsPerStatement = 500

    init(database: SQLiteDatabaseFile) {
        self.database = database
    }

    func insert(_ events: [RoomEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let rows = try events.map { event -> [SQLiteData] in
            [
                .text(event.id), .integer(SQLiteInt64(StoredEvent.milliseconds(event.at))), .text(event.kind.rawValue),
                .text(event.from), .text(event.text), .text(try StoredEvent.payload(of: event)), .text(event.room),
            ]
        }
        return try await database.transaction { connection in
            var inserted = 0
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + Self.rowsPerStatement, rows.count)]
                let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                let returned = try await connection.query(
                    "INSERT INTO events (id, at, kind, sender, text, payload, room) VALUES \(placeholders) ON CONFLICT DO NOTHING RETURNING seq",
                    chunk.flatMap { $0 }
                )
                inserted += returned.count
                start += chunk.count
            }
            return inserted
        }
    }

    func latest(limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        guard limit > 0, rooms?.isEmpty != true else { return [] }
        let (clause, binds) = Self.roomClause(rooms, column: "room")
        let rows = try await database.read(
            "SELECT payload FROM events WHERE \(clause) ORDER BY id DESC LIMIT ?", binds + [.integer(SQLiteInt64(limit))])
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func before(id: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        guard limit > 0, rooms?.isEmpty != true else { return [] }
        let (clause, binds) = Self.roomClause(rooms, column: "room")
        let rows = try await database.read(
            "SELECT payload FROM events WHERE id < ? AND \(clause) ORDER BY id DESC LIMIT ?",
            [.text(id)] + binds + [.integer(SQLiteInt64(limit))])
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func search(_ query: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        let words = SearchWords(query)
        guard limit > 0, !words.isEmpty, rooms?.isEmpty != true else { return [] }
        let (clause, binds) = Self.roomClause(rooms, column: "events.room")
        let rows = try await database.read(
            """
            SELECT events.payload AS payload FROM events_fts JOIN events ON events.seq = events_fts.rowid
            WHERE events_fts MATCH ? AND \(clause) ORDER BY events.id DESC LIMIT ?
            """,
            [.text(words.fts5Query)] + binds + [.integer(SQLiteInt64(limit))]
        )
        return try decode(rows)
    }

    func unread(room: String, after: String?, reader: String, cap: Int) async throws -> UnreadCount {
        guard cap > 0 else { return UnreadCount(count: 0, mentioned: false) }
        let rows = try await database.read(
            """
            SELECT COUNT(*) AS n, COALESCE(MAX(lower(text) LIKE ? ESCAPE '\\'), 0) AS mentioned FROM (
                SELECT text FROM events WHERE room = ? AND id > ? AND kind IN (?, ?) AND lower(sender) <> lower(?)
                ORDER BY id LIMIT ?
            )
            """,
            [
                .text(UnreadKinds.mentionPattern(reader)), .text(room), .text(after ?? ""),
                .text(UnreadKinds.all[0]), .text(UnreadKinds.all[1]), .text(reader), .integer(SQLiteInt64(cap)),
            ]
        )
        let row = rows.first
        return UnreadCount(count: Int(row?.column("n")?.integer ?? 0), mentioned: (row?.column("mentioned")?.integer ?? 0) != 0)
    }

    /// `room IN (?, …)` for the rooms given, or a clause that is always true for nil.
    static func roomClause(_ rooms: [String]?, column: String) -> (String, [SQLiteData]) {
        guard let rooms else { return ("1 = 1", []) }
        return ("\(column) IN (\(Array(repeating: "?", count: rooms.count).joined(separator: ", ")))", rooms.map { .text($0) })
    }

    func count() async throws -> Int {
        let rows = try await database.read("SELECT COUNT(*) AS n FROM events")
        return Int(rows.first?.column("n")?.integer ?? 0)
    }

    private func decode(_ rows: [SQLiteRow]) throws -> [RoomEvent] {
        try rows.map { row in
            guard let payload = row.column("payload")?.string else { throw StoreError.corruptRow("events.payload is not text") }
            return try StoredEvent.event(fromPayload: payload)
        }
    }
}
