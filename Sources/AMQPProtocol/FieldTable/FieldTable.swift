/// An AMQP field table: string keys to ``FieldValue``s, in the order they were added.
///
/// Keys are short strings (at most 255 bytes of UTF-8, checked on encode). Equality compares
/// entries in order. Lookup by key is linear, which suits the handful of entries tables hold.
public struct FieldTable: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The entries, in wire order.
    public private(set) var entries: [(key: String, value: FieldValue)]

    /// An empty table.
    public init() {
        self.entries = []
    }

    /// A table of `entries` in the given order; a repeated key keeps its last value at its first place.
    public init(_ entries: some Sequence<(String, FieldValue)>) {
        self.entries = []
        for (key, value) in entries {
            self[key] = value
        }
    }

    /// A table from a dictionary literal, keeping the literal's order.
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self.init(elements)
    }

    /// The value for `key`; setting nil removes the entry, setting a new key appends it.
    public subscript(key: String) -> FieldValue? {
        get {
            self.entries.first(where: { $0.key == key })?.value
        }
        set {
            let index = self.entries.firstIndex(where: { $0.key == key })
            switch (index, newValue) {
            case (let index?, let value?):
                self.entries[index].value = value
            case (let index?, nil):
                self.entries.remove(at: index)
            case (nil, let value?):
                self.entries.append((key, value))
            case (nil, nil):
                break
            }
        }
    }

    /// The number of entries.
    public var count: Int {
        self.entries.count
    }

    /// Whether the table has no entries.
    public var isEmpty: Bool {
        self.entries.isEmpty
    }

    /// The keys, in order.
    public var keys: [String] {
        self.entries.map(\.key)
    }

    /// Appends an entry without looking for an existing key, as decoding does: the wire may repeat keys.
    mutating func appendUnchecked(key: String, value: FieldValue) {
        self.entries.append((key, value))
    }

    /// Compares entries in order.
    public static func == (lhs: FieldTable, rhs: FieldTable) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }
}

extension FieldTable: Sequence {
    /// Iterates the entries in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: FieldValue)]> {
        self.entries.makeIterator()
    }
}
