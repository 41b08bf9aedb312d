import Foundation
import PostgresNIO
import WarrenCore

/// ``EventStore`` on PostgreSQL: batches in one transaction, search through a generated
/// `tsvector` column (the `simple` configuration: no stemming, no stop words) and its GIN index.
final class PostgresEventStore: EventStore {
    private let server: PostgresServer
    /// Rows per INSERT statement: 7 parameters each stays far below the protocol's 65,535.
    static let rowsPerStatement = 1_000

    init(server: PostgresServer) {
        self.server = server
    }

    func insert(_ events: [RoomEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let payloads = try events.map { try StoredEvent.payload(of: $0) }
        let statements = stride(from: 0, to: events.count, by: Self.rowsPerStatement).map { start in
            Self.insertStatement(events, payloads: payloads, range: start..<min(start + Self.rowsPerStatement, events.count))
        }
        let logger = server.logger
        // One statement is atomic on its own: a round trip for BEGIN and COMMIT buys nothing.
        if statements.count == 1 {
            return try await server.query(statements[0]).count
        }
        return try await server.transaction { connection in
            var inserted = 0
            for statement in statements {
                inserted += try await connection.query(statement, logger: logger).collect().count
            }
            return inserted
        }
    }

    /// `INSERT … ON CONFLICT DO NOTHING RETURNING id` for the events in `range`.
    private static func insertStatement(_ events: [RoomEvent], payloads: [String], range: Range<Int>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: range.count * 7)
        var values: [String] = []
        values.reserveCapacity(range.count)
        for index in range {
            let event = events[index]
            let first = (index - range.lowerBound) * 7
            values.append("($\(first + 1), $\(first + 2), $\(first + 3), $\(first + 4), $\(first + 5), $\(first + 6)::json, $\(first + 7))")
            binds.append(event.id)
            binds.append(Timestamp.truncated(event.at))
            binds.append(event.kind.rawValue)
            // PostgreSQL text cannot hold NUL; these columns are copies for indexing, the
            // payload keeps the event whole.
            binds.append(Self.withoutNUL(event.from))
            binds.append(Self.withoutNUL(event.text))
            binds.append(payloads[index])
            binds.append(event.room)
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO events (id, at, kind, sender, text, payload, room) VALUES \(values.joined(separator: ", "))
                ON CONFLICT DO NOTHING RETURNING id
                """,
            binds: binds
        )
    }

    private static func withoutNUL(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "") : text
    }

    func latest(limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        guard limit > 0, rooms?.isEmpty != true else { return [] }
        let rows: [PostgresRow]
        if let rooms {
            rows = try await server.query("SELECT payload::text FROM events WHERE room = ANY(\(rooms)) ORDER BY id DESC LIMIT \(limit)")
        } else {
            rows = try await server.query("SELECT payload::text FROM events ORDER BY id DESC LIMIT \(limit)")
        }
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func before(id: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        guard limit > 0, rooms?.isEmpty != true else { return [] }
        let rows: [PostgresRow]
        if let rooms {
            rows = try await server.query(
                "SELECT payload::text FROM events WHERE id < \(id) AND room = ANY(\(rooms)) ORDER BY id DESC LIMIT \(limit)")
        } else {
            rows = try await server.query("SELECT payload::text FROM events WHERE id < \(id) ORDER BY id DESC LIMIT \(limit)")
        }
        return StoredEvent.oldestFirst(try decode(rows))
    }

    func search(_ query: String, limit: Int, rooms: [String]?) async throws -> [RoomEvent] {
        let words = SearchWords(query)
        guard limit > 0, !words.isEmpty, rooms?.isEmpty != true else { return [] }
        // plainto_tsquery reads only words (no operators, quotes or prefixes) and ANDs them.
        let rows: [PostgresRow]
        if let rooms {
            rows = try await server.query(
                """
                SELECT payload::text FROM events WHERE search @@ plainto_tsquery('simple', \(words.plainText))
                AND room = ANY(\(rooms)) ORDER BY id DESC LIMIT \(limit)
                """
            )
        } else {
            rows = try await server.query(
                """
                SELECT payload::text FROM events WHERE search @@ plainto_tsquery('simple', \(words.plainText))
                ORDER BY id DESC LIMIT \(limit)
                """
            )
        }
        return try decode(rows)
    }

    func unread(room: String, after: String?, reader: String, cap: Int) async throws -> UnreadCount {
        guard cap > 0 else { return UnreadCount(count: 0, mentioned: false) }
        let pattern = UnreadKinds.mentionPattern(reader)
        let rows = try await server.query(
            """
            SELECT COUNT(*)::int8, COALESCE(BOOL_OR(lower(text) LIKE \(pattern)), false) FROM (
                SELECT text FROM events WHERE room = \(room) AND id > \(after ?? "") AND kind = ANY(\(UnreadKinds.all))
                AND lower(sender) <> lower(\(reader)) ORDER BY id LIMIT \(cap)
            ) AS unread
            """
        )
        guard let row = rows.first else { return UnreadCount(count: 0, mentioned: false) }
        let (count, mentioned) = try row.decode((Int, Bool).self)
        return UnreadCount(count: count, mentioned: mentioned)
    }

    func count() async throws -> Int {
        let rows = try await server.query("SELECT COUNT(*)::int8 FROM events")
        return try rows.first?.decode(Int.self) ?? 0
    }

    private func decode(_ rows: [PostgresRow]) throws -> [RoomEvent] {
        try rows.map { try StoredEvent.event(fromPayload: $0.decode(String.self)) }
    }
}
