import Foundation
import NIOConcurrencyHelpers
import WarrenCore
import WarrenServices

/// The posts of a chaos drill, numbered in the order they were sent, and what the poster was
/// told about each: accepted (admitted with an event id, or queued: confirmed into the inbox
/// without an answer), and when; how often posts had to be tried again. The event ids each post
/// reached tabs under are kept here too (``idIndex(of:id:)``), so that a tab keeps a few bytes per
/// post rather than the ids themselves.
final class PostLedger: Sendable {
    struct Post: Sendable {
        let clientId: String
        let sentAt: ContinuousClock.Instant
        var acceptedAt: ContinuousClock.Instant?
        var admittedID: String?
        /// Event ids tabs saw this post under, in the order first seen (one unless duplicated).
        var ids: [String] = []
    }

    private struct State {
        var posts: [Post] = []
        var numberByClient: [String: Int] = [:]
        var retries = 0
        var refusals = 0
        var slipped: Duration = .zero
        var stopping = false
        var giveUpAt: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())

    var posts: [Post] { self.state.withLockedValue { $0.posts } }
    var retries: Int { self.state.withLockedValue { $0.retries } }
    var refusals: Int { self.state.withLockedValue { $0.refusals } }
    /// How far behind its schedule the poster fell at worst (posts in flight at the cap).
    var slipped: Duration { self.state.withLockedValue { $0.slipped } }

    /// The number of the post with `clientId`, if it is one of the drill's.
    func number(of clientId: String) -> Int? { self.state.withLockedValue { $0.numberByClient[clientId] } }

    /// The index of `id` among the event ids post `number` was seen under (a new one is added).
    func idIndex(of number: Int, id: String) -> Int {
        self.state.withLockedValue { state in
            if let index = state.posts[number].ids.firstIndex(of: id) { return index }
            state.posts[number].ids.append(id)
            return state.posts[number].ids.count - 1
        }
    }

    /// Sends `perSecond` posts a second through `poster` (an open schedule: post n is due at
    /// start + n / perSecond, whatever became of the others) until `stop()` says so; a post the
    /// broker did not take is tried again, the same post as an API client would, until it is or
    /// until `drain` after the stop. At most `maxInFlight` posts are on their way at once: at
    /// the cap the schedule waits (``slipped`` says how far it fell behind).
    func post(
        through poster: APIPostPublisher, perSecond: Int, maxInFlight: Int = 200, drain: Duration = .seconds(60),
        stop: @escaping @Sendable () -> Bool
    ) async {
        let interval = Duration.seconds(1) / perSecond
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var unawaited = 0
            var sent = 0
            while !stop() {
                try? await Task.sleep(until: start + interval * sent, clock: .continuous)
                while unawaited >= maxInFlight {
                    _ = await group.next()
                    unawaited -= 1
                }
                let late = ContinuousClock.now - (start + interval * sent)
                let number = self.register(clientId: UUID().uuidString.lowercased(), late: late)
                group.addTask { await self.send(number, through: poster) }
                unawaited += 1
                sent += 1
            }
            self.state.withLockedValue {
                $0.stopping = true
                $0.giveUpAt = ContinuousClock.now + drain
            }
        }
    }

    private func register(clientId: String, late: Duration) -> Int {
        self.state.withLockedValue { state in
            state.posts.append(Post(clientId: clientId, sentAt: .now))
            state.numberByClient[clientId] = state.posts.count - 1
            state.slipped = max(state.slipped, late)
            return state.posts.count - 1
        }
    }

    private func send(_ number: Int, through poster: APIPostPublisher) async {
        let clientId = self.state.withLockedValue { $0.posts[number].clientId }
        let post = InboxPost(text: "chaos \(number)", clientId: clientId, login: "poster", session: ChatHarness.randomSession())
        while true {
            do {
                let outcome = try await poster.publish(post)
                let now = ContinuousClock.now
                self.state.withLockedValue { state in
                    switch outcome {
                    case .admitted(let id):
                        state.posts[number].admittedID = id
                        state.posts[number].acceptedAt = now
                    case .queued: state.posts[number].acceptedAt = now
                    case .refused: state.refusals += 1
                    }
                }
                return
            } catch {
                let giveUp = self.state.withLockedValue { state -> Bool in
                    state.retries += 1
                    return state.giveUpAt.map { ContinuousClock.now > $0 } ?? false
                }
                if giveUp { return }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
