/// Takes turns per key: work on one key runs one at a time, in the order it asked, while
/// work on other keys runs beside it. The login service uses it so two requests for the same
/// tab (a login and a logout, or a login sent twice by a reconnecting tab) never interleave.
actor KeyedTurns {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` once every earlier turn on `key` has ended.
    func run<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async rethrows -> T {
        await self.begin(key)
        defer { self.end(key) }
        return try await body()
    }

    /// Keys with a turn running.
    var busyCount: Int { self.waiting.count }

    private func begin(_ key: String) async {
        guard self.waiting[key] != nil else {
            self.waiting[key] = []
            return
        }
        await withCheckedContinuation { self.waiting[key, default: []].append($0) }
    }

    private func end(_ key: String) {
        guard var queue = self.waiting[key], !queue.isEmpty else {
            self.waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        self.waiting[key] = queue
        next.resume()  // the key stays busy: the turn passes on
    }
}
