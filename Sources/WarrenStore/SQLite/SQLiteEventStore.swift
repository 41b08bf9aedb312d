import Foundation
import SQLiteNIO
import WarrenCore

/// ``EventStore`` on a SQLite file: batches in one transaction, search through FTS5.
final class SQLiteEventStore: EventStore {
    private let database: SQLiteDatabaseFile
    /// Rows per INSERT statement: 6 parameters each stays far below SQLite's variable limit.
    static let rowsPerStatement = 500

    init(database: SQLiteDatabaseFile) {
        self.database = database
    }

    func insert(_ events: [RoomEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let rows = try events.map { event -> [SQLiteData] in
            [
                .text(event.id), .integer(SQLiteInt64(StoredEvent.milliseconds(event.at))), .text(event.kind.rawValue),
                .text(event.from), .text(event.text), .text(try StoredEvent.payload(of: event)),
            ]
        }
        return try await database.transaction { connection in
            var inserted = 0
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + Self.rowsPerStatement, rows.count)]
                let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                let returned = try await connection.query(
                    "INSERT INTO events (id, at, kind, sender, text, payload) VALUES \(placeholders) ON CONFLICT DO NOTHING RETURNING seq",
                    chunk.flatMap { $0 }
                )
                inserted += returned.count
                start += chunk.count
            }
            return inserted
        }
    }

    func latest(limit: Int) async throws -> [RoomEvent] {
        guard limit > 0 else { return [] }
        let rows = try await database.read(
            "SELECT payload FROM events ORDER BY id DESC LIMIT ?", [.integer(SQLiteInt64(limit))])
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func before(id: String, limit: Int) async throws -> [RoomEvent] {
        guard limit > 0 else { return [] }
        let rows = try await database.read(
            "SELECT payload FROM events WHERE id < ? ORDER BY id DESC LIMIT ?", [.text(id), .integer(SQLiteInt64(limit))])
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func search(_ query: String, limit: Int) async throws -> [RoomEvent] {
        let words = SearchWords(query)
        guard limit > 0, !words.isEmpty else { return [] }
        let rows = try await database.read(
            """
            SELECT events.payload AS payload FROM events_fts JOIN events ON events.seq = events_fts.rowid
            WHERE events_fts MATCH ? ORDER BY events.id DESC LIMIT ?
            """,
            [.text(words.fts5Query), .integer(SQLiteInt64(limit))]
        )
        return try decode(rows)
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
