import Foundation
import WarrenCore

/// One room a person belongs to, with where they have read up to.
public struct RoomMembership: Sendable, Hashable {
    /// The room.
    public var room: ChatRoom
    /// The newest event id they have read in it (nil: nothing yet).
    public var readUpTo: String?

    /// Creates a membership value.
    public init(room: ChatRoom, readUpTo: String?) {
        self.room = room
        self.readUpTo = readUpTo
    }
}

/// Rooms, who belongs to them and how far each member has read: the truth the broker's
/// bindings are derived from (see WarrenServices' `TopologyDeclarer.declarePerson`).
///
/// Member names are compared without regard to case, as account names are. `general` belongs
/// to everyone: ``memberships(of:)`` always holds it and ``isMember(room:member:)`` is always
/// true for it, whether or not a row says so (accounts get a row at registration, for their
/// read position). Limits (``SharedRules/roomsPerPersonMax``, a private room's members) are
/// checked in the transaction that adds a member, so concurrent joins cannot pass them; a
/// refusal is thrown as a ``WarrenCore/Refusal``. Implementations are safe from many tasks.
public protocol RoomStore: Sendable {
    /// Makes a room with its creator as first member; throws a ``Refusal`` with
    /// `room.nameTaken` when the id exists, `room.tooManyRooms` when the creator is full.
    func createRoom(_ room: ChatRoom) async throws

    /// The room with this id, or nil.
    func room(id: String) async throws -> ChatRoom?

    /// Every room `member` belongs to (general first), with their read positions.
    func memberships(of member: String) async throws -> [RoomMembership]

    /// Public rooms, by name, at most `limit`.
    func publicRooms(limit: Int) async throws -> [ChatRoom]

    /// Whether `member` belongs to the room.
    func isMember(room: String, member: String) async throws -> Bool

    /// The members' names, sorted without regard to case, at most `limit`.
    func members(of room: String, limit: Int) async throws -> [String]

    /// Adds `member` to `room`; false when they were a member already. Throws a ``Refusal``
    /// when a limit would be passed.
    @discardableResult
    func addMember(_ member: String, to room: ChatRoom, at: Date) async throws -> Bool

    /// Removes `member` from the room; false when they were not a member.
    @discardableResult
    func removeMember(_ member: String, from room: String) async throws -> Bool

    /// Moves `member`'s read position in `room` forward to `eventID` (never back); false when
    /// it did not move (not a member, or already past it).
    @discardableResult
    func markRead(room: String, member: String, upTo eventID: String) async throws -> Bool

    /// The direct-message room of two people, made (with both as members) on first use.
    func directRoom(_ one: String, _ other: String, at: Date) async throws -> ChatRoom
}

extension RoomStore {
    /// The ids of every room `member` belongs to: what their person exchange is bound to.
    public func roomIDs(of member: String) async throws -> [String] {
        try await self.memberships(of: member).map(\.room.id)
    }
}

/// How rooms and members are kept in rows.
enum StoredRoom {
    /// The `general` room as the migration made it, for a person who has no row for it.
    static func general() -> ChatRoom {
        ChatRoom(id: ChatRoom.general, name: ChatRoom.general, visibility: .public, createdBy: "warren", createdAt: Date(timeIntervalSince1970: 0))
    }

    /// General first, then the rest by id; general added when the rows lack it.
    static func ordered(_ memberships: [RoomMembership]) -> [RoomMembership] {
        var rest = memberships.filter { $0.room.id != ChatRoom.general }.sorted { $0.room.id < $1.room.id }
        let general = memberships.first { $0.room.id == ChatRoom.general } ?? RoomMembership(room: general(), readUpTo: nil)
        rest.insert(general, at: 0)
        return rest
    }

    static func visibility(_ text: String) throws -> RoomVisibility {
        guard let visibility = RoomVisibility(rawValue: text) else { throw StoreError.corruptRow("rooms.visibility is \"\(text)\"") }
        return visibility
    }

    static func nameTaken(_ room: ChatRoom) -> Refusal {
        Refusal(.roomNameTaken, "A room called \(room.name) exists already; choose another name, or join it.")
    }
}
