/// Changes the broker's routing when memberships change, and tells a person's tabs: what the
/// web role needs of the broker for the rooms API (WarrenServices' `RoomRouter` over AMQP, or a
/// stand-in in tests of the web layer). Only services bind and unbind; browsers never can.
public protocol RoomRouting: Sendable {
    /// `login`'s tabs get `room` from now on (one exchange-to-exchange binding).
    func bind(_ login: String, room: String) async throws
    /// `login`'s tabs stop getting `room` at once (one unbind).
    func unbind(_ login: String, room: String) async throws
    /// Sends `event` (a `rooms` notice) to every tab of `login` through their own exchange.
    func notify(_ login: String, _ event: RoomEvent) async throws
    /// Which of `logins` have at least one tab connected now (the consumers on their online
    /// queues, `Topology.onlineQueue(login:)`), possibly as seen a few seconds ago.
    func online(_ logins: [String]) async throws -> Set<String>
}
