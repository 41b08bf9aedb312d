import AMQPProtocol
import NIOCore
import Testing

@Suite("Field tables")
struct FieldTableTests {
    private func roundTrip(_ table: FieldTable) throws -> FieldTable {
        var buffer = ByteBuffer()
        try table.encode(into: &buffer)
        let decoded = try FieldTable.decode(from: &buffer)
        #expect(buffer.readableBytes == 0)
        return decoded
    }

    @Test("every field type round-trips, nested tables and arrays included")
    func everyTypeRoundTrips() throws {
        for variant in 0..<3 {
            let table = sampleTable(variant: variant)
            #expect(try self.roundTrip(table) == table)
        }
        let edges: FieldTable = [
            "int8": .int8(.min), "uint8": .uint8(.max), "int16": .int16(.min), "uint16": .uint16(.max),
            "int32": .int32(.min), "uint32": .uint32(.max), "int64": .int64(.min),
            "float": .float(-.infinity), "double": .double(.greatestFiniteMagnitude),
            "decimal": .decimal(AMQPDecimal(scale: 255, value: .max)),
            "timestamp": .timestamp(.max), "empty string": "", "empty bytes": .byteArray(ByteBuffer()),
            "empty array": .array([]), "empty table": .table([:]),
            "": .void,
        ]
        #expect(try self.roundTrip(edges) == edges)
    }

    @Test("each type has its RabbitMQ tag")
    func tags() throws {
        let cases: [(FieldValue, [UInt8])] = [
            (.bool(true), [UInt8(ascii: "t"), 1]),
            (.int8(-1), [UInt8(ascii: "b"), 0xFF]),
            (.uint8(1), [UInt8(ascii: "B"), 1]),
            (.int16(-2), [UInt8(ascii: "s"), 0xFF, 0xFE]),
            (.uint16(2), [UInt8(ascii: "u"), 0, 2]),
            (.int32(3), [UInt8(ascii: "I"), 0, 0, 0, 3]),
            (.uint32(4), [UInt8(ascii: "i"), 0, 0, 0, 4]),
            (.int64(5), [UInt8(ascii: "l"), 0, 0, 0, 0, 0, 0, 0, 5]),
            (.float(1), [UInt8(ascii: "f"), 0x3F, 0x80, 0, 0]),
            (.double(1), [UInt8(ascii: "d"), 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]),
            (.decimal(AMQPDecimal(scale: 2, value: 7)), [UInt8(ascii: "D"), 2, 0, 0, 0, 7]),
            ("ab", [UInt8(ascii: "S"), 0, 0, 0, 2, UInt8(ascii: "a"), UInt8(ascii: "b")]),
            ([.bool(false)], [UInt8(ascii: "A"), 0, 0, 0, 2, UInt8(ascii: "t"), 0]),
            (.timestamp(6), [UInt8(ascii: "T"), 0, 0, 0, 0, 0, 0, 0, 6]),
            (["k": .void], [UInt8(ascii: "F"), 0, 0, 0, 3, 1, UInt8(ascii: "k"), UInt8(ascii: "V")]),
            (.void, [UInt8(ascii: "V")]),
            (.byteArray(ByteBuffer(bytes: [9])), [UInt8(ascii: "x"), 0, 0, 0, 1, 9]),
        ]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            try value.encode(into: &buffer)
            #expect(buffer.bytes == bytes, "\(value)")
            #expect(try FieldValue.decode(from: &buffer) == value)
        }
    }

    @Test("order is kept; subscripts replace in place, append and remove")
    func ordering() {
        var table: FieldTable = ["b": 1, "a": 2, "c": 3]
        #expect(table.keys == ["b", "a", "c"])
        table["a"] = "two"
        table["d"] = .void
        table["b"] = nil
        #expect(table.keys == ["a", "c", "d"])
        #expect(table["a"]?.stringValue == "two")
        #expect(table.count == 3 && !table.isEmpty)
        #expect(table != ["c": 3, "a": "two", "d": .void])
    }

    @Test("a length past the end of the table is a typed error")
    func oversizeLengths() {
        let inputs: [[UInt8]] = [
            [0, 0, 0, 10, 1, UInt8(ascii: "k")],  // table longer than the buffer
            [0xFF, 0xFF, 0xFF, 0xFF],  // a 4 GiB table in 4 bytes
            [0, 0, 0, 7, 1, UInt8(ascii: "k"), UInt8(ascii: "S"), 0xFF, 0xFF, 0xFF, 0xFF],  // string
            [0, 0, 0, 4, 9, UInt8(ascii: "k"), UInt8(ascii: "t"), 1],  // key longer than the table
            [0, 0, 0, 7, 1, UInt8(ascii: "k"), UInt8(ascii: "A"), 0, 0, 0, 9],  // array
            [0, 0, 0, 3, 1, UInt8(ascii: "k"), UInt8(ascii: "I")],  // int cut short
        ]
        for input in inputs {
            var buffer = ByteBuffer(bytes: input)
            #expect(throws: AMQPProtocolError.self, "\(input)") { try FieldTable.decode(from: &buffer) }
        }
    }

    @Test("an unknown type tag is a typed error")
    func unknownTag() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 1, UInt8(ascii: "k"), UInt8(ascii: "Z")])
        #expect {
            try FieldTable.decode(from: &buffer)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .unknownFieldType
        }
    }

    /// Builds `depth` tables (or arrays) each holding the next.
    private func nested(depth: Int, arrays: Bool) -> FieldTable {
        var value: FieldValue = .void
        for _ in 0..<(depth - 1) {
            value = arrays ? .array([value]) : .table(["n": value])
        }
        return ["n": value]
    }

    @Test("nesting is capped at 64 levels", arguments: [false, true])
    func deepNesting(arrays: Bool) throws {
        let limit = FieldTable.maximumNestingDepth
        let allowed = self.nested(depth: limit, arrays: arrays)
        #expect(try self.roundTrip(allowed) == allowed)
        #expect {
            try self.roundTrip(self.nested(depth: limit + 1, arrays: arrays))
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .nestingTooDeep
        }
        // Well-formed bytes 10,000 arrays deep must fail fast, not exhaust the stack.
        let levels = 10_000
        func contentLength(level: Int) -> UInt32 { UInt32(1 + 5 * (level - 1)) }
        var table = ByteBuffer()
        table.writeInteger(UInt32(2 + 5) + contentLength(level: levels))
        table.writeBytes([1, UInt8(ascii: "k")])
        for level in stride(from: levels, through: 1, by: -1) {
            table.writeInteger(UInt8(ascii: "A"))
            table.writeInteger(contentLength(level: level))
        }
        table.writeInteger(UInt8(ascii: "V"))
        #expect {
            try FieldTable.decode(from: &table)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .nestingTooDeep
        }
    }

    @Test("a key over 255 bytes is rejected on encode and the buffer is left as it was")
    func longKey() {
        let table: FieldTable = [String(repeating: "k", count: 256): .void]
        var buffer = ByteBuffer(bytes: [7])
        #expect {
            try table.encode(into: &buffer)
        } throws: { error in
            (error as? AMQPProtocolError)?.code == .valueTooLong
        }
        #expect(buffer.bytes == [7])
    }

    @Test("literals pick the natural types")
    func literals() {
        let value: FieldValue = ["a": 1, "b": true, "c": 1.5, "d": "s", "e": [1]]
        guard case .table(let table) = value else {
            Issue.record("not a table")
            return
        }
        #expect(table["a"] == .int64(1))
        #expect(table["b"] == .bool(true))
        #expect(table["c"] == .double(1.5))
        #expect(table["d"] == .longString(ByteBuffer(string: "s")))
        #expect(table["e"] == .array([.int64(1)]))
    }
}
