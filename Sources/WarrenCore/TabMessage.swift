/// The room's latest events for a tab that has just logged in, in one message.
///
/// JSON: `{"kind": "backfill", "events": [<room event>, …]}`, oldest first. One message instead
/// of one per event: the broker routes, stores and delivers it once, and the page takes the
/// events in one go. `kind` is never a ``RoomEvent/Kind``, so a reader tells the two apart.
public struct BackfillBatch: WireMessage, Hashable {
    /// The value of `kind` that marks a batch.
    public static let kind = "backfill"
    /// Always ``kind``.
    public var kind: String
    /// The events, oldest first.
    public var events: [RoomEvent]

    /// Creates a batch of `events`, oldest first.
    public init(events: [RoomEvent]) {
        self.kind = Self.kind
        self.events = events
    }
}

/// What a tab's queue holds: one room event, or a backfill batch.
public enum TabMessage: Sendable, Hashable {
    /// A live event (or one addressed to this tab alone, such as a refusal).
    case event(RoomEvent)
    /// The room's latest events, sent once at login.
    case backfill([RoomEvent])

    /// The events the message carries, oldest first.
    public var events: [RoomEvent] {
        switch self {
        case .event(let event): [event]
        case .backfill(let events): events
        }
    }

    /// Decodes a message of a tab's queue.
    public static func decode<Bytes: Collection>(_ bytes: Bytes) throws(Refusal) -> TabMessage where Bytes.Element == UInt8 {
        if let batch = try? BackfillBatch.decode(bytes), batch.kind == BackfillBatch.kind {
            return .backfill(batch.events)
        }
        return .event(try RoomEvent.decode(bytes))
    }
}
