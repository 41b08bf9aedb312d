import Foundation

/// An access token read from a file (`--token-file`), or from standard input for `-`.
enum TokenFile {
    /// The token in `path`, trimmed; one word, or a clear failure naming the option.
    static func read(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("--token-file \(path): cannot read the file")
            }
            data = contents
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw CommandFailure("--token-file \(path): expected one access token, found \(token.isEmpty ? "nothing" : "several words")")
        }
        return token
    }
}
