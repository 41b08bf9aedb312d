/// Sibling loops that live and die together.
///
/// Swift's `ThrowingTaskGroup.waitForAll()` waits for *every* child task before it rethrows the
/// first error, and does not cancel the others. A role that runs two loops on one connection
/// (the login service's logins and posts, say) would then go on with one loop dead and never
/// return to its supervisor: the posts stopped for good after one confirm timed out, while the
/// logins went on (`ChatConfirmStallTests`). Here the first failure cancels the siblings (and
/// runs `onFailure`, e.g. closing the connection they share) before they are awaited.
extension ThrowingTaskGroup where Failure == any Error {
    /// Waits for every child task; the first one to throw cancels the others, `onFailure` runs,
    /// and once every child has ended the first error is rethrown.
    public mutating func waitForAllOrFirstFailure(onFailure: () async -> Void = {}) async throws {
        do {
            while try await self.next() != nil {}
        } catch {
            self.cancelAll()
            await onFailure()
            while !self.isEmpty { _ = try? await self.next() }
            throw error
        }
    }
}
