/// A log's events, in chunks of `chunkSize`. A world cloned for reset shares its logs' lists
/// with the reset template; the first append to a shared list copies its list of chunks and
/// its last chunk, a few thousand references, where one array of every event copied them all
/// (at 200,000 events, 200,000 retains: 15 ms of a held loop on the first append after a
/// load or a reset, for the thread's log and again for the session's).
public struct EventList: RandomAccessCollection {
    public typealias Index = Int
    public typealias Indices = Range<Int>

    static let shift = 12
    static let chunkSize = 1 << shift

    /// Full chunks, then the last one, which may not be.
    private var chunks: [[StoredEvent]] = []
    public private(set) var count = 0
    /// The count `reserveCapacity` was asked for: new chunks are made to hold up to it.
    private var wanted = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public var indices: Range<Int> { 0..<count }
    public func index(after i: Int) -> Int { i + 1 }
    public func index(before i: Int) -> Int { i - 1 }

    public subscript(position: Int) -> StoredEvent {
        precondition(position >= 0 && position < count, "event position out of range")
        return chunks[position &>> Self.shift][position & (Self.chunkSize - 1)]
    }

    mutating func append(_ event: StoredEvent) {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [StoredEvent] = []
            chunk.reserveCapacity(Swift.min(Self.chunkSize, Swift.max(wanted - count, 1)))
            chunk.append(event)
            chunks.append(chunk)
        } else {
            chunks[chunks.count - 1].append(event)
        }
        count += 1
    }

    /// Room for `total` events in all: a list built from a known count is not copied as it grows.
    mutating func reserveCapacity(_ total: Int) {
        guard total > count else { return }
        wanted = Swift.max(wanted, total)
        chunks.reserveCapacity((total + Self.chunkSize - 1) &>> Self.shift)
        if count & (Self.chunkSize - 1) != 0 {
            chunks[chunks.count - 1].reserveCapacity(
                Swift.min(Self.chunkSize, total - (chunks.count - 1) * Self.chunkSize))
        }
    }

    /// Where the list of chunks and each chunk are stored: what an append copied moved (tests).
    var storage: [UnsafeRawPointer?] {
        [chunks.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }]
            + chunks.map { $0.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
    }

    /// Empties the list and hands its chunks over (a replaced world frees them a slice at a time).
    mutating func takeChunks() -> [[StoredEvent]] {
        let taken = chunks
        self = EventList()
        return taken
    }
}
