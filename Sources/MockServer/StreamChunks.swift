/// The last frame written to a stream, with its HTTP/1.1 chunk (hex size, CRLF, the frame,
/// CRLF). A fan-out writes one frame to every stream that follows the log: its chunk is made
/// for the first stream and sent as it is to the others. Holding the frame keeps its storage,
/// the key, from being reused by another array.
struct StreamChunks {
    private var last: (frame: [UInt8], chunk: [UInt8])?

    /// `frame` framed as one HTTP/1.1 chunk.
    mutating func chunk(of frame: [UInt8]) -> [UInt8] {
        if let last, Self.sameStorage(last.frame, frame) { return last.chunk }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(frame.count + 20)
        chunk.append(contentsOf: String(frame.count, radix: 16).utf8)
        chunk.append(13)
        chunk.append(10)
        chunk.append(contentsOf: frame)
        chunk.append(13)
        chunk.append(10)
        last = (frame, chunk)
        return chunk
    }

    private static func sameStorage(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count
            && a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { a.baseAddress == $0.baseAddress } }
    }
}
