import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One post as a person, after their token was checked: the rules and the inbox path that
/// `POST /api/messages` and gRPC `Chat.Post` share (each maps the outcome to its own statuses).
///
/// The text is checked by the same rules as a tab's post, then the post goes to the inbox through
/// the broker on behalf of `login` and the login service admits it like a tab's.
public enum PostSubmission {
    /// Why a post was not taken.
    public enum Failure: Error, Equatable, Sendable {
        /// The rules refused it (before the broker, or the login service did).
        case refused(Refusal)
        /// No broker link, or the broker did not take it.
        case unavailable(String)
    }

    /// What became of a post that was taken.
    public enum Taken: Equatable, Sendable {
        /// Admitted as room event `id`.
        case admitted(id: String)
        /// In the inbox; a login service admits it later.
        case queued
    }

    /// Checks and sends `text` from `login` to `room` (nil: general); `clientId` nil makes one.
    public static func submit(
        text: String, clientId: String?, login: String, room: String?, posts: (any PostPublishing)?
    ) async throws(Failure) -> (post: InboxPost, taken: Taken) {
        let post = APIPost.inboxPost(text: text, clientId: clientId ?? UUID().uuidString.lowercased(), login: login, room: room)
        do throws(Refusal) {
            _ = try post.validate()
        } catch {
            throw .refused(error)
        }
        guard let posts else {
            throw .unavailable("This server has no link to the broker; posts cannot be sent.")
        }
        let outcome: PostOutcome
        do throws(PostPublishError) {
            outcome = try await posts.publish(post)
        } catch {
            throw .unavailable(error.description)
        }
        switch outcome {
        case .admitted(let id): return (post, .admitted(id: id))
        case .queued: return (post, .queued)
        case .refused(let refusal): throw .refused(refusal)
        }
    }
}
