/// The pure membership rules: who may join, invite, leave and post, decided without I/O from
/// what the store says. The store applies the counts' limits in the same transaction as the
/// change (see WarrenStore's `RoomStore`), so concurrent joins cannot pass a limit.
public enum MembershipRules {
    /// Whether `person` may post to (and read) `room`, given whether the store has them as a member.
    /// Everyone belongs to `general`.
    public static func mayPost(roomID: String, isMember: Bool) -> Bool {
        roomID == ChatRoom.general || isMember
    }

    /// Why `person` may not join `room` of their own accord, or nil when they may.
    public static func joinRefusal(_ room: ChatRoom) -> Refusal? {
        switch room.visibility {
        case .public: nil
        case .private: Refusal(.roomPrivate, "\(room.name) is private: a member has to invite you.")
        case .direct: Refusal(.roomPrivate, "A direct message has exactly its two people.")
        }
    }

    /// Why `inviter` may not invite into `room`, or nil when they may.
    public static func inviteRefusal(_ room: ChatRoom, inviterIsMember: Bool) -> Refusal? {
        if room.visibility == .direct {
            return Refusal(.roomPrivate, "A direct message has exactly its two people; start a room to talk with more.")
        }
        if !inviterIsMember {
            return Refusal(.roomNotMember, "Only members of \(room.name) may invite to it.")
        }
        return nil
    }

    /// Why `person` may not leave `room`, or nil when they may.
    public static func leaveRefusal(_ room: ChatRoom) -> Refusal? {
        room.id == ChatRoom.general ? Refusal(.roomCannotLeave, "Everyone belongs to \(ChatRoom.general); it cannot be left.") : nil
    }

    /// Why `remover` may not remove `member` from `room`, or nil when they may: only the room's
    /// creator removes others (from a private or public room, never from `general` or a direct
    /// message); anyone removes themselves by leaving.
    public static func removeRefusal(_ room: ChatRoom, remover: String, member: String) -> Refusal? {
        if room.id == ChatRoom.general { return Refusal(.roomCannotLeave, "Everyone belongs to \(ChatRoom.general); nobody is removed from it.") }
        if room.visibility == .direct { return Refusal(.roomPrivate, "A direct message has exactly its two people; nobody is removed from it.") }
        if member == remover { return Refusal(.roomInvalid, "To remove yourself, leave \(room.name).") }
        if room.createdBy != remover { return Refusal(.roomNotCreator, "Only \(room.createdBy), who made \(room.name), removes its members.") }
        return nil
    }

    /// The member limit of a room, or nil when it has none (public rooms and `general`).
    public static func memberLimit(_ room: ChatRoom) -> Int? {
        switch room.visibility {
        case .public: nil
        case .private: SharedRules.membersPerPrivateRoomMax
        case .direct: 2
        }
    }

    /// The refusal when `member` already belongs to the most rooms allowed; it names them, as
    /// the one refused may be someone else (an invitation, a direct message).
    public static func tooManyRooms(_ member: String) -> Refusal {
        Refusal(.roomTooManyRooms, "\(member) belongs to \(SharedRules.roomsPerPersonMax) rooms, the most allowed, and must leave one before joining another.")
    }

    /// The refusal when a private room is full.
    public static func tooManyMembers(_ room: ChatRoom) -> Refusal {
        Refusal(.roomTooManyMembers, "\(room.name) has \(memberLimit(room) ?? 0) members, the most a private room may have.")
    }
}
