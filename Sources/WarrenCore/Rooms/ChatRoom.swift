import Foundation

/// Who may join a room.
public enum RoomVisibility: String, Codable, Sendable, CaseIterable {
    /// Anyone signed in may join.
    case `public`
    /// Members invite; nobody else may join.
    case `private`
    /// A direct message: exactly two members, made on first use, nobody joins or is invited.
    case direct
}

/// A room as the store keeps it and the REST API shows it.
///
/// JSON: `{"createdAt": "…", "createdBy": "alice", "id": "ops", "name": "Ops", "visibility": "private"}`.
/// The id is the name in lowercase (names are unique without regard to case), or for a direct
/// message ``DirectRoom/id(_:_:)``; it is the routing key's last part (`room.<id>`).
public struct ChatRoom: Codable, Sendable, Hashable {
    /// The stable id: the routing key is `room.<id>`.
    public var id: String
    /// The name as its creator wrote it (for a direct message, the two names).
    public var name: String
    /// Public, private or direct.
    public var visibility: RoomVisibility
    /// Who made it (`warren` for `general`).
    public var createdBy: String
    /// When it was made, to the millisecond.
    public var createdAt: Date

    /// Creates a room value.
    public init(id: String, name: String, visibility: RoomVisibility, createdBy: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.visibility = visibility
        self.createdBy = createdBy
        self.createdAt = Timestamp.truncated(createdAt)
    }

    /// The id of the room everyone belongs to.
    public static let general = SharedRules.generalRoom

    /// A new public or private room named `name` (checked with ``Validation/roomName(_:)``).
    public static func named(_ name: String, visibility: RoomVisibility, by creator: String, at: Date) throws(Refusal) -> ChatRoom {
        let checked = try Validation.roomName(name)
        if visibility == .direct {
            throw Refusal(.roomInvalid, "A direct message is not created by name; start one with the other person's name.")
        }
        return ChatRoom(id: RoomID.of(name: checked), name: checked, visibility: visibility, createdBy: creator, createdAt: at)
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, visibility, createdBy, createdAt
    }

    /// Decodes a room, reading `createdAt` as RFC 3339.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        visibility = try container.decode(RoomVisibility.self, forKey: .visibility)
        createdBy = try container.decode(String.self, forKey: .createdBy)
        createdAt = try container.decodeTimestamp(forKey: .createdAt)
    }

    /// Encodes a room, writing `createdAt` as RFC 3339 with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(visibility, forKey: .visibility)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(Timestamp.format(createdAt), forKey: .createdAt)
    }
}

/// Room ids: names in lowercase, and direct-message ids.
public enum RoomID {
    /// The id of a room called `name` (a checked name): the name in lowercase ASCII.
    public static func of(name: String) -> String {
        String(decoding: name.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// Direct messages: a room of exactly two people whose id is made from both names, so either
/// of them finds the same room without asking anyone.
public enum DirectRoom {
    /// `dm.<length of the first>.<first>.<second>`, the two names in lowercase and sorted. The
    /// length makes the id unambiguous though login names may hold dots: `dm.5.alice.bob`.
    /// - Throws: a refusal when either name is not a login name, or both are one person.
    public static func id(_ one: String, _ other: String) throws(Refusal) -> String {
        let a = RoomID.of(name: try Validation.login(one))
        let b = RoomID.of(name: try Validation.login(other))
        if a == b { throw Refusal(.roomInvalid, "A direct message needs two different people.") }
        let (first, second) = a < b ? (a, b) : (b, a)
        return "\(SharedRules.directRoomPrefix)\(first.utf8.count).\(first).\(second)"
    }

    /// The two names of a direct-message id, or nil when `id` is not one.
    public static func members(of id: String) -> (String, String)? {
        guard id.hasPrefix(SharedRules.directRoomPrefix) else { return nil }
        let rest = id.dropFirst(SharedRules.directRoomPrefix.count)
        guard let dot = rest.firstIndex(of: "."), let length = Int(rest[..<dot]), length > 0 else { return nil }
        let names = rest[rest.index(after: dot)...]
        guard names.utf8.count > length + 1 else { return nil }
        let first = String(names.utf8.prefix(length))!
        let tail = names.utf8.dropFirst(length)
        guard tail.first == UInt8(ascii: ".") else { return nil }
        let second = String(tail.dropFirst())!
        guard (try? Validation.login(first)) != nil, (try? Validation.login(second)) != nil,
            (try? DirectRoom.id(first, second)) == id
        else { return nil }
        return (first, second)
    }
}

extension Validation {
    /// Checks a room's name: 1 to 32 characters of `[A-Za-z0-9_.-]` (as login names), not
    /// starting with the direct-message prefix `dm.`.
    public static func roomName(_ name: String) throws(Refusal) -> String {
        let scalars = name.unicodeScalars
        if scalars.isEmpty {
            throw Refusal(.roomNameEmpty, "The room name is empty; choose 1 to \(SharedRules.roomNameMaxLength) characters.")
        }
        if let bad = scalars.first(where: { !isLoginScalar($0) }) {
            throw Refusal(
                .roomNameInvalidCharacter,
                "The room name contains \(describe(bad)); only letters A-Z and a-z, digits, '_', '.' and '-' are allowed."
            )
        }
        if scalars.count > SharedRules.roomNameMaxLength {
            throw Refusal(
                .roomNameTooLong,
                "The room name is \(scalars.count) characters long; at most \(SharedRules.roomNameMaxLength) are allowed."
            )
        }
        if RoomID.of(name: name).hasPrefix(SharedRules.directRoomPrefix) {
            throw Refusal(.roomNameInvalidCharacter, "A room name may not start with \"\(SharedRules.directRoomPrefix)\": that is how direct messages are named.")
        }
        return name
    }

    /// Checks a room id as a request names it: a room name in lowercase, or a direct-message id.
    /// Returns the id in lowercase (ids are compared without regard to case).
    public static func roomID(_ id: String) throws(Refusal) -> String {
        let scalars = id.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= SharedRules.roomIdMaxLength, scalars.allSatisfy(isLoginScalar) else {
            throw Refusal(
                .roomInvalid,
                "\"\(id.prefix(40))\" is not a room id (1 to \(SharedRules.roomIdMaxLength) letters, digits, '_', '.' or '-')."
            )
        }
        let lowered = RoomID.of(name: id)
        if lowered.hasPrefix(SharedRules.directRoomPrefix) {
            guard DirectRoom.members(of: lowered) != nil else {
                throw Refusal(.roomInvalid, "\"\(id.prefix(40))\" is not a direct-message id (dm.<length>.<name>.<name>).")
            }
            return lowered
        }
        _ = try roomName(id)
        return lowered
    }
}

extension Refusal.Code {
    /// A room name is empty.
    public static let roomNameEmpty = Refusal.Code(rawValue: "room.nameEmpty")
    /// A room name is longer than the shared limit.
    public static let roomNameTooLong = Refusal.Code(rawValue: "room.nameTooLong")
    /// A room name holds a character outside `[A-Za-z0-9_.-]` or starts with `dm.`.
    public static let roomNameInvalidCharacter = Refusal.Code(rawValue: "room.nameInvalidCharacter")
    /// A room id, or a request about rooms, is not well formed.
    public static let roomInvalid = Refusal.Code(rawValue: "room.invalid")
    /// A room of that name exists.
    public static let roomNameTaken = Refusal.Code(rawValue: "room.nameTaken")
    /// No such room (or a private one the asker may not know of).
    public static let roomNotFound = Refusal.Code(rawValue: "room.notFound")
    /// The author is not a member of the room the post (or request) names.
    public static let roomNotMember = Refusal.Code(rawValue: "room.notMember")
    /// A private room is joined by invitation only; a direct message by nobody.
    public static let roomPrivate = Refusal.Code(rawValue: "room.private")
    /// The person belongs to ``SharedRules/roomsPerPersonMax`` rooms already.
    public static let roomTooManyRooms = Refusal.Code(rawValue: "room.tooManyRooms")
    /// The private room has ``SharedRules/membersPerPrivateRoomMax`` members already.
    public static let roomTooManyMembers = Refusal.Code(rawValue: "room.tooManyMembers")
    /// Nobody leaves `general`.
    public static let roomCannotLeave = Refusal.Code(rawValue: "room.cannotLeave")
    /// Only a room's creator removes other members from it.
    public static let roomNotCreator = Refusal.Code(rawValue: "room.notCreator")
    /// The person named (to invite, or to message directly) has no account.
    public static let roomUnknownPerson = Refusal.Code(rawValue: "room.unknownPerson")
}
