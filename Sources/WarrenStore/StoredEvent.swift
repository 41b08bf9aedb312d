import Foundation
import WarrenCore

/// How an event is kept in a row: its JSON (`payload`) is the truth; the other columns are
/// copies for indexing and for people reading the database.
enum StoredEvent {
    /// The event's JSON, as the wire carries it.
    static func payload(of event: RoomEvent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(event), as: UTF8.self)
    }

    /// The event a stored payload holds.
    static func event(fromPayload payload: String) throws -> RoomEvent {
        try JSONDecoder().decode(RoomEvent.self, from: Data(payload.utf8))
    }

    /// Milliseconds since the Unix epoch, as SQLite keeps instants.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((Timestamp.truncated(date).timeIntervalSince1970 * 1_000).rounded())
    }

    /// The instant of a millisecond count.
    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
    }

    /// Events read newest first, handed back oldest first as ``EventStore`` promises.
    static func oldestFirst(_ newestFirst: [RoomEvent]) -> [RoomEvent] {
        newestFirst.reversed()
    }
}

/// How an account name is compared: login names are ASCII (``WarrenCore/Validation/login(_:)``),
/// so lowercasing the ASCII letters is the whole of "without regard to case".
enum AccountName {
    /// The unique key of a name.
    static func key(_ name: String) -> String {
        String(decoding: name.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
