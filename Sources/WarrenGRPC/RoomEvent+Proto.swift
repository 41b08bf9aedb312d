import WarrenCore

extension Warren_V1_Event {
    /// The protobuf form of a room event (docs/grpc.md): the JSON event's fields, absent ones empty.
    public init(_ event: RoomEvent) {
        self.init()
        self.id = event.id
        self.kind = event.kind.rawValue
        self.from = event.from
        self.text = event.text
        self.at = Timestamp.format(event.at)
        self.room = event.room
        self.clientID = event.clientId ?? ""
        self.inReplyTo = event.inReplyTo ?? ""
        self.code = event.code ?? ""
        if let proof = event.proof {
            self.proof = .with {
                $0.bits = UInt32(clamping: proof.bits)
                $0.challenge = proof.challenge
                $0.nonce = proof.nonce
                $0.hash = proof.hash
                $0.elapsedMs = UInt64(clamping: max(0, proof.elapsedMs))
                $0.hashesPerSecond = UInt64(clamping: max(0, proof.hashesPerSecond))
                $0.via = proof.via.rawValue
            }
        }
    }
}
