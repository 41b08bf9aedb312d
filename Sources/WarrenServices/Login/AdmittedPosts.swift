import NIOConcurrencyHelpers
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The event ids this login service gave to posts a short while ago, by author, client id and
/// text, so a post that arrives again gets the event it got the first time.
///
/// A post arrives twice when the broker redelivers it (its ack was lost: a broker killed after
/// the event was published but before the inbox ack reached its disk, or a connection that
/// dropped in between), or when the page sends it again after a reconnect because it did not
/// see it come back. Admitted again under the same id and time, the copy is one event to every
/// reader: the page keeps an event once per id and the store ignores an id it has. Kept in
/// memory for ``lifetime`` (bounded by ``capacity``) across this role's reconnects; another copy
/// of the login service, or this one after a restart, does not know it.
final class AdmittedPosts: Sendable {
    /// What a post was admitted as.
    struct Admission: Sendable, Equatable {
        var id: String
        var at: Date
    }

    /// The default of ``lifetime``: longer than any broker restart the page rides out.
    static let defaultLifetime: Duration = .seconds(600)
    /// The default of ``capacity``: at about 200 bytes each, 4 MB.
    static let defaultCapacity = 20_000

    private let box: NIOLockedValueBox<RecentEntries<Admission>>

    init(lifetime: Duration = AdmittedPosts.defaultLifetime, capacity: Int = AdmittedPosts.defaultCapacity) {
        self.box = NIOLockedValueBox(RecentEntries(lifetime: lifetime, capacity: capacity))
    }

    /// The admission of `post` within the lifetime, or a new one made by `make` and remembered.
    func admission(of post: AcceptedPost, make: () -> Admission) -> (admission: Admission, again: Bool) {
        let key = Self.key(post)
        return self.box.withLockedValue { recent in
            let now = ContinuousClock.now
            if let known = recent.value(for: key, now: now) { return (known, true) }
            let made = make()
            recent.insert(key, value: made, now: now)
            return (made, false)
        }
    }

    /// Author, client id and text: the same client id with another text is another post.
    static func key(_ post: AcceptedPost) -> String {
        "\(post.login)\u{0}\(post.clientId)\u{0}\(post.text)"
    }
}
