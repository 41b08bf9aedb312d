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
