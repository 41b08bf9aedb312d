/// Every size limit of the chat's domain, in one place.
///
/// Services, the web app and tests read these rather than repeating numbers, so a limit changes
/// in one line.
public enum Limits {
    /// The fewest characters in a login name.
    public static let loginMinLength = 1
    /// The most characters in a login name.
    public static let loginMaxLength = 32

    /// The fewest characters in a session id: a base64url encoding of 16 random bytes is 22.
    public static let sessionMinLength = 22
    /// The most characters in a session id.
    public static let sessionMaxLength = 64

    /// The fewest characters (grapheme clusters) in a post, after trimming whitespace.
    public static let textMinCharacters = 1
    /// The most characters (grapheme clusters) in a post, after trimming whitespace.
    public static let textMaxCharacters = 2_000
    /// The most UTF-8 bytes of one request body the services look at before refusing it.
    ///
    /// 2,000 characters can need far more than 2,000 bytes (a family emoji is 25 bytes), so this
    /// is generous; it exists so a hostile body is refused before it is parsed.
    public static let requestMaxBytes = 256 * 1024

    /// The fewest characters in a client id.
    public static let clientIdMinLength = 1
    /// The most characters in a client id (a UUID with dashes is 36).
    public static let clientIdMaxLength = 64

    /// The most characters in one dot-separated segment of the topology prefix.
    public static let prefixSegmentMaxLength = 64
    /// The most characters of the whole topology prefix.
    ///
    /// AMQP names are at most 255 bytes; `<prefix>.user.<login>.<session>` adds at most 103.
    public static let prefixMaxLength = 128

    /// The smallest proof-of-work difficulty, in leading zero bits.
    public static let powMinBits = 1
    /// The largest proof-of-work difficulty, in leading zero bits.
    public static let powMaxBits = 64

    /// How many years ahead a cron schedule is searched before it is judged never to fire.
    ///
    /// Eight covers the longest gap between two February 29ths (2096 to 2104).
    public static let cronSearchYears = 8

    /// The largest `WARREN_HISTORY_BATCH`: the history consumer's prefetch (a 16-bit count)
    /// must hold a whole batch and a few requests behind it.
    public static let historyBatchMax = 10_000
    /// The most events one history request may ask for.
    public static let historyLimitMax = 200
    /// The most characters (grapheme clusters) of a history search.
    public static let historyQueryMaxCharacters = 200
    /// How many events a new tab is backfilled with.
    public static let backfillCount = 50
}
