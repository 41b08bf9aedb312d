import WarrenCore

extension LoginRequest {
    /// The key requests for one tab take turns on (see ``KeyedTurns``): its login and session
    /// as sent, or one made of the byte count when they cannot be read (such a request is
    /// refused anyway).
    static func turnKey<Bytes: Collection>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        guard let request = try? LoginRequest.decode(bytes) else { return "?\(bytes.count)" }
        return "\(request.login)\u{0}\(request.session)"
    }
}
