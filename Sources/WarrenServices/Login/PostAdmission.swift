import WarrenCore

/// The pure part of admitting a post: validation and where the answer goes.
public enum PostAdmission: Equatable, Sendable {
    /// Valid: publish it, once `queue` (the sender's tab queue) is found to exist.
    case accepted(AcceptedPost, queue: String)
    /// Refused: tell the sender in `queue` when there is a well-formed one, else dead-letter.
    case refused(Refusal, queue: String?)

    /// Validates a post and names the sender's queue.
    public static func admit(_ post: InboxPost, topology: Topology) -> PostAdmission {
        do throws(Refusal) {
            let accepted = try AcceptedPost(post)
            return .accepted(accepted, queue: topology.userQueue(login: accepted.login, session: accepted.session))
        } catch {
            let login = try? Validation.login(post.login)
            let session = try? Validation.session(post.session)
            let queue = login.flatMap { login in session.map { topology.userQueue(login: login, session: $0) } }
            return .refused(error, queue: queue)
        }
    }
}
