/// Builds the challenge string that binds a proof of work to one post.
///
/// Format (version 1):
///
/// ```
/// challenge = "warren-pow:v1:" + lowercase-hex(SHA-256(canonical))
/// canonical = len(id) ":" id ":" len(author) ":" author ":" len(text) ":" text
/// ```
///
/// where every `len` is the field's length in UTF-8 bytes, written in decimal, and the fields are
/// their UTF-8 bytes as they are (no normalisation). The length prefixes make the encoding
/// unambiguous whatever the fields contain (colons included). Hashing the post first keeps the
/// challenge at 78 ASCII bytes for any post, so a proof costs the same per try whatever the text's
/// length (one SHA-256 block per nonce after the first block is cached), and the proof object stays
/// small. A browser rebuilds it with two WebCrypto digests:
///
/// ```js
/// const enc = s => new TextEncoder().encode(s);
/// const field = s => { const b = enc(s); return `${b.length}:${s}`; };
/// const canonical = `${field(id)}:${field(author)}:${field(text)}`;
/// const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", enc(canonical)))]
///   .map(b => b.toString(16).padStart(2, "0")).join("");
/// const challenge = "warren-pow:v1:" + hex;
/// // proof hash: crypto.subtle.digest("SHA-256", enc(challenge + nonce))
/// ```
public enum ProofChallenge {
    /// The prefix every version-1 challenge starts with.
    public static let prefix = "warren-pow:v1:"

    /// The challenge for a post.
    ///
    /// - Parameters:
    ///   - id: the post's id.
    ///   - author: the login the post is from.
    ///   - text: the post's text, exactly as it will be shown.
    public static func make(id: String, author: String, text: String) -> String {
        prefix + SHA256Backend.best.digest(of: canonicalPost(id: id, author: author, text: text)).hexString
    }

    /// The canonical, length-prefixed bytes of a post that the challenge hashes.
    public static func canonicalPost(id: String, author: String, text: String) -> [UInt8] {
        var out = [UInt8]()
        for (index, field) in [id, author, text].enumerated() {
            if index > 0 { out.append(UInt8(ascii: ":")) }
            let bytes = Array(field.utf8)
            out += Array(String(bytes.count).utf8)
            out.append(UInt8(ascii: ":"))
            out += bytes
        }
        return out
    }
}
