import AMQPProtocol
import NIOCore

/// A short string that differs per field and variant; variant 1 is exactly 255 bytes, the limit.
func sampleShortString(_ field: String, variant: Int) -> String {
    if variant == 1 {
        return String(repeating: "x", count: 255)
    }
    return "\(field)-\(variant)-é"
}

/// A long string with binary bytes (a NUL, 0xFF) that varies per variant.
func sampleLongString(variant: Int) -> ByteBuffer {
    ByteBuffer(bytes: [0, 1, 0xFF, UInt8(truncatingIfNeeded: variant)] + Array("long".utf8))
}

/// A table with every field type; variants differ in values and nesting.
func sampleTable(variant: Int) -> FieldTable {
    var table: FieldTable = [
        "bool": .bool(variant % 2 == 0),
        "int8": .int8(-8),
        "uint8": .uint8(200),
        "int16": .int16(-1600),
        "uint16": .uint16(60000),
        "int32": .int32(-320_000),
        "uint32": .uint32(4_000_000_000),
        "int64": .int64(-64_000_000_000),
        "float": .float(1.5),
        "double": .double(-2.25),
        "decimal": .decimal(AMQPDecimal(scale: 2, value: 12345)),
        "string": "text \(variant)",
        "array": [1, "two", .void, [.int8(3)]],
        "timestamp": .timestamp(1_700_000_000),
        "table": ["nested": ["deeper": .bool(true)]],
        "void": .void,
        "bytes": .byteArray(ByteBuffer(bytes: [0, 0xCE, 0xFF])),
    ]
    table["variant"] = .int32(Int32(variant))
    return table
}

/// Encodes a frame into a fresh buffer.
func encoded(_ frame: Frame, maxFrameSize: UInt32 = 0) throws -> ByteBuffer {
    var buffer = ByteBuffer()
    try frame.encode(into: &buffer, maxFrameSize: maxFrameSize)
    return buffer
}

/// Decodes every frame in `buffer`; fails if bytes are left over.
func decodeAll(_ buffer: ByteBuffer, decoder: AMQPFrameDecoder = AMQPFrameDecoder()) throws -> [Frame] {
    var buffer = buffer
    var decoder = decoder
    var frames: [Frame] = []
    while let frame = try decoder.decode(buffer: &buffer) {
        frames.append(frame)
    }
    return frames
}

/// A seeded SplitMix64 generator, so the fuzz tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ByteBuffer {
    /// The readable bytes as an array, for comparisons.
    var bytes: [UInt8] {
        self.getBytes(at: self.readerIndex, length: self.readableBytes) ?? []
    }
}
