import WarrenCore

import Foundation

/// One room event as one readable line, for `warren send` and `warren tail`.
enum EventLine {
    static func format(_ event: RoomEvent) -> String {
        let time = Timestamp.format(event.at)
        let room = event.room == ChatRoom.general ? "" : "#\(event.room) "
        var line = "\(time) \(room)\(event.kind.rawValue) \(event.from): \(event.text.replacingOccurrences(of: "\n", with: "⏎"))"
        if let inReplyTo = event.inReplyTo { line += " (re \(inReplyTo))" }
        if let proof = event.proof {
            line += " [proof \(proof.via.rawValue) \(proof.bits) bits, nonce \(proof.nonce), \(proof.elapsedMs) ms]"
        }
        if let code = event.code { line += " [\(code)]" }
        return line
    }
}

/// Writes a line to standard output at once (unbuffered, so a pipe sees it live).
func writeLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
