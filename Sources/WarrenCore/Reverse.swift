/// The text read backwards by character (grapheme cluster), as the reverser bot replies.
///
/// Clusters stay whole: "héllo 👋🏽" becomes "👋🏽 olléh", the wave keeping its skin tone (not "🏽👋 olléh"), and
/// flags, ZWJ family emoji and letters with combining marks are never split. A `\r\n` pair is
/// one cluster and stays in order.
public func reversed(_ text: String) -> String {
    String(text.reversed())
}
