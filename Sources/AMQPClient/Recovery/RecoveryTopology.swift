import AMQPProtocol

/// The topology an ``AMQPRecoveringConnection`` declares again after a recovery, in the order it
/// was first declared, and the names server-named queues have had.
///
/// A queue declared as "" gets a name from the broker (`amq.gen-...`). When it is declared again
/// on a new connection it gets a new name; ``queueRenamed(from:to:)`` moves the later steps
/// (its bindings) to the new name and remembers every earlier name, so ``currentName(of:)``
/// answers for any name the queue ever had. A pure value: no I/O, tested on its own.
struct RecoveryTopology: Sendable, Equatable {
    /// One declaration or binding to repeat.
    enum Step: Sendable, Equatable {
        case exchange(name: String, type: String, durable: Bool, autoDelete: Bool, internal: Bool, arguments: FieldTable)
        /// `serverNamed`: declared as "", so `name` is the broker's latest choice.
        case queue(name: String, serverNamed: Bool, durable: Bool, exclusive: Bool, autoDelete: Bool, arguments: FieldTable)
        case queueBinding(queue: String, exchange: String, routingKey: String, arguments: FieldTable)
        case exchangeBinding(destination: String, source: String, routingKey: String, arguments: FieldTable)

        /// Whether the step names `queue` (its declaration or one of its bindings).
        func concerns(queue: String) -> Bool {
            switch self {
            case .queue(let name, _, _, _, _, _), .queueBinding(let name, _, _, _): name == queue
            case .exchange, .exchangeBinding: false
            }
        }
    }

    private(set) var steps: [Step] = []
    /// Every earlier name of a server-named queue, mapped to the name it has now.
    private(set) var renames: [String: String] = [:]

    var isEmpty: Bool { self.steps.isEmpty }

    /// Records a step to repeat after recoveries; a step recorded before is not added twice.
    mutating func record(_ step: Step) {
        if !self.steps.contains(step) { self.steps.append(step) }
    }

    /// Forgets a deleted queue (under any of its names) and its bindings.
    mutating func forgetQueue(_ name: String) {
        let current = self.currentName(of: name)
        self.steps.removeAll { $0.concerns(queue: current) }
        self.renames = self.renames.filter { $0.value != current }
    }

    /// Forgets the steps that match.
    mutating func forget(where matches: (Step) -> Bool) {
        self.steps.removeAll(where: matches)
    }

    /// A server-named queue was declared again and got `new`: its declaration and bindings now
    /// use `new`, and every earlier name leads to it.
    mutating func queueRenamed(from old: String, to new: String) {
        guard old != new else { return }
        self.steps = self.steps.map { step in
            switch step {
            case .queue(old, let serverNamed, let durable, let exclusive, let autoDelete, let arguments):
                .queue(name: new, serverNamed: serverNamed, durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments)
            case .queueBinding(old, let exchange, let routingKey, let arguments):
                .queueBinding(queue: new, exchange: exchange, routingKey: routingKey, arguments: arguments)
            default:
                step
            }
        }
        for (earlier, current) in self.renames where current == old {
            self.renames[earlier] = new
        }
        self.renames[old] = new
        self.renames[new] = nil
    }

    /// The name a queue has now: itself unless it is an earlier name of a server-named queue.
    func currentName(of queue: String) -> String {
        self.renames[queue] ?? queue
    }
}
