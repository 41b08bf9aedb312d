/// Hands out channel ids lowest-free-first, from 1 to the negotiated channel-max.
///
/// An id comes back only once its channel is fully closed (close-ok sent or received), so a
/// late frame for an old channel can never land on a new one.
struct ChannelIDAllocator {
    private(set) var channelMax: UInt16
    /// Ids released below `next`, kept sorted so the lowest is reused first.
    private var released: [UInt16] = []
    /// The lowest id never handed out.
    private var next: UInt32 = 1

    init(channelMax: UInt16) {
        self.channelMax = channelMax
    }

    /// The lowest free id, or nil when all of 1...channelMax are in use.
    mutating func allocate() -> UInt16? {
        if !self.released.isEmpty {
            return self.released.removeFirst()
        }
        guard self.next <= UInt32(self.channelMax) else { return nil }
        defer { self.next += 1 }
        return UInt16(self.next)
    }

    /// Gives `id` back for reuse.
    mutating func release(_ id: UInt16) {
        guard id >= 1, UInt32(id) < self.next, !self.released.contains(id) else { return }
        if UInt32(id) == self.next - 1 {
            self.next -= 1
            // Fold trailing released ids back into `next` so `released` stays short.
            while let last = self.released.last, UInt32(last) == self.next - 1 {
                self.released.removeLast()
                self.next -= 1
            }
            return
        }
        let index = self.released.firstIndex(where: { $0 > id }) ?? self.released.endIndex
        self.released.insert(id, at: index)
    }

    /// The number of ids in use.
    var inUse: Int {
        Int(self.next - 1) - self.released.count
    }
}
