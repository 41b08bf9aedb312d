/// The benchmark's client ids, `p<phase>-<seq>`, and how a tab finds one in a room event's JSON
/// without decoding the whole event (the tabs share the machine with the login service, so
/// they should cost as little as possible, the same in both paths).
enum BenchClientID {
    /// The client id of post `seq` in phase `phase`.
    static func make(phase: Int, seq: Int) -> String { "p\(phase)-\(seq)" }

    private static let marker = Array(#""clientId":"p"#.utf8)

    /// The phase and sequence number in a room event's `clientId`, nil when it has none of ours
    /// (presence events, for instance).
    static func find(in body: some Collection<UInt8>) -> (phase: Int, seq: Int)? {
        let bytes = Array(body)
        guard bytes.count > marker.count else { return nil }
        var start = 0
        let last = bytes.count - marker.count
        search: while start <= last {
            for offset in 0..<marker.count where bytes[start + offset] != marker[offset] {
                start += 1
                continue search
            }
            var index = start + marker.count
            guard let phase = number(bytes, &index), index < bytes.count, bytes[index] == UInt8(ascii: "-") else { return nil }
            index += 1
            guard let seq = number(bytes, &index), index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            return (phase, seq)
        }
        return nil
    }

    private static func number(_ bytes: [UInt8], _ index: inout Int) -> Int? {
        var value = 0
        var digits = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), digits < 12 {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
