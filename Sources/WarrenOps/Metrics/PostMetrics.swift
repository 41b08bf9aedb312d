import WarrenCore

/// What the login service records about posts and tabs.
public enum PostMetrics {
    /// The refusal code of a post whose session queue does not exist (it is dead-lettered).
    public static let unknownSession = "session.unknown"

    /// A post was admitted (again, for one that arrived twice: it is published again).
    public static func admitted(_ route: String) {
        WarrenMetrics.count(.postsAdmitted, [("route", route)])
    }

    /// A post was refused, told to its tab or dead-lettered.
    public static func refused(_ code: Refusal.Code) {
        self.refused(code.rawValue)
    }

    /// A post was refused for a reason named by a code of this file (``unknownSession``).
    public static func refused(_ code: String) {
        WarrenMetrics.count(.postsRefused, [("code", code)])
    }

    /// A tab was logged in; `new` for a session that had no queue.
    public static func loggedIn(new: Bool) {
        WarrenMetrics.count(.logins, [("session", new ? "new" : "resumed")])
        if new { WarrenMetrics.add(.tabsSignedIn, 1) }
    }

    /// A tab was logged out; `existed` when its queue was there to delete.
    public static func loggedOut(existed: Bool) {
        WarrenMetrics.count(.logouts)
        if existed { WarrenMetrics.add(.tabsSignedIn, -1) }
    }
}
