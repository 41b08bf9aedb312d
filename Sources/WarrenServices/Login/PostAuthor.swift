import AMQPClient
import WarrenCore

/// Whether the broker vouches for the author a request names.
///
/// With broker auth on (`WARREN_BROKER_AUTH=on`), a browser signs in to the broker as itself and
/// sends the STOMP `user-id` header, which the broker checks against that sign-in and passes on
/// as the AMQP `user_id` property. A request whose `user_id` is missing or names someone else is
/// refused, so nobody posts, logs in or leaves as another person.
public enum PostAuthor {
    /// Nil when the request may proceed, else the reason to refuse it (for the log).
    /// - Parameters:
    ///   - userID: the delivery's `user_id` property, validated by the broker.
    ///   - login: the login the request names.
    ///   - required: whether broker auth is on; when off, every request proceeds.
    public static func refusal(userID: String?, login: String, required: Bool) -> String? {
        guard required else { return nil }
        guard let userID else { return "no broker-validated user id (send the STOMP user-id header); the request names \(login)" }
        guard userID == login else { return "the broker-validated user id \(userID) is not the login \(login) the request names" }
        return nil
    }
}

extension PostAuthor {
    /// The header of an inbox post that the web role sends for a person who posted through the
    /// REST API: it names that person, whom the web role authenticated by their access token.
    ///
    /// Why this is safe: the header is trusted only when the post's `user_id` property is the
    /// services' own broker account. RabbitMQ refuses a publish whose `user_id` is not the user
    /// the connection signed in as (and no account here has the `impersonator` tag), so only a
    /// connection holding the services' password can carry that `user_id`; browsers sign in as
    /// themselves (or as the shared `browser` account), and the service account's name is
    /// reserved, so no person can register it. Any other post carrying the header is refused,
    /// whatever `WARREN_BROKER_AUTH` says, so it cannot be used to skip the session check.
    public static let onBehalfHeader = "x-warren-on-behalf-of"

    /// For a post that carries ``onBehalfHeader``: nil when it may be admitted as `login`'s
    /// without a tab, else the reason to refuse it (for the log).
    /// - Parameters:
    ///   - userID: the delivery's `user_id` property, validated by the broker.
    ///   - serviceUser: the services' broker account (the user of `WARREN_AMQP_URL`).
    ///   - onBehalfOf: the header's value.
    ///   - login: the login the post names.
    public static func onBehalfRefusal(userID: String?, serviceUser: String, onBehalfOf: String, login: String) -> String? {
        guard !serviceUser.isEmpty, let userID, userID == serviceUser else {
            return "the post claims to be sent on behalf of \(onBehalfOf), but its broker-validated user id \(userID ?? "(none)") is not the services' account"
        }
        guard onBehalfOf == login else {
            return "the post is sent on behalf of \(onBehalfOf) but names the login \(login)"
        }
        return nil
    }
}

extension WarrenConfiguration {
    /// The services' broker account: the user of `WARREN_AMQP_URL`, which the web role's
    /// connection signs in as and the login service trusts to post on a person's behalf
    /// (see ``PostAuthor/onBehalfHeader``); empty when the URL cannot be read.
    public var serviceUser: String {
        (try? AMQPConfiguration(urlList: self.amqpURL))?.user ?? ""
    }
}
