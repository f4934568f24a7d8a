import Glibc
import MockApp
import MockDomain
import MockJSON

/// Reads `--fixtures`: one JSON file, or a folder whose `*.json` files are merged
/// in name order (their tokens, agents and sessions lists are concatenated).
enum FixtureFiles {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// A file from this size on has its sessions read while it is parsed, on a second
    /// thread (`SessionReadAhead`); smaller ones are read in less time than a thread takes
    /// to start.
    static let readAheadFrom = 1 << 20

    /// The fixture document, where it came from, and its sessions if they were read
    /// while it was parsed (`clock` is the world's: defaults are read from it).
    static func load(path: String?, clock: MockClock) throws -> (JSON, String, SessionReadAhead.Sessions?) {
        guard let path else {
            guard let bytes = BundledResources.defaultFixtureBytes else {
                throw LoadError(description: "the built-in default fixture is missing from this build")
            }
            return (try parse(bytes, name: "(built-in default fixture)"), "(built-in default fixture)", nil)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw LoadError(description: "\(path): no such file or folder") }
        if info.st_mode & S_IFMT != S_IFDIR {
            let (document, sessions) = try parseFile(path, readingAhead: info.st_size >= readAheadFrom, clock: clock)
            return (document, path, sessions)
        }
        let names = try entries(of: path).filter { $0.hasSuffix(".json") }.sorted()
        guard !names.isEmpty else { throw LoadError(description: "\(path): the folder has no *.json fixture") }
        var merged: [String: [JSON]] = ["tokens": [], "agents": [], "sessions": []]
        for name in names {
            let file = path.hasSuffix("/") ? path + name : path + "/" + name
            let (doc, _) = try parseFile(file, readingAhead: false, clock: clock)
            guard case .object(let pairs) = doc else { throw LoadError(description: "\(file): $: expected an object") }
            for (key, value) in pairs {
                guard merged[key] != nil else {
                    throw LoadError(description: "\(file): $.\(key): unknown field (expected tokens, agents, sessions)")
                }
                guard case .array(let items) = value else {
                    throw LoadError(description: "\(file): $.\(key): expected an array, got \(value.typeName)")
                }
                merged[key]! += items
            }
        }
        let doc = JSON.object([
            ("tokens", .array(merged["tokens"]!)), ("agents", .array(merged["agents"]!)),
            ("sessions", .array(merged["sessions"]!)),
        ])
        return (doc, path, nil)
    }

    /// The names in a folder (no `.` or `..`).
    static func entries(of path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw LoadError(description: "\(path): cannot read the folder") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A whole file parsed where it lies: mapped read-only, not copied into a buffer of
    /// its own first (a 300 MB fixture would cost 300 MB of fresh memory, zeroed and then
    /// filled, on the way to the ready line). The mapping is gone when this returns.
    /// `readingAhead`: its sessions are read while it is parsed (`SessionReadAhead`) and
    /// returned apart from the document; if that fails, the file is parsed again without.
    static func parseFile(_ path: String, readingAhead: Bool, clock: MockClock) throws
        -> (JSON, SessionReadAhead.Sessions?)
    {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LoadError(description: "\(path): cannot read the file") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LoadError(description: "\(path): cannot read the file") }
        let size = Int(info.st_size)
        guard size > 0 else { return (try parse([], name: path), nil) }
        let whole = { (bytes: UnsafeBufferPointer<UInt8>) throws -> (JSON, SessionReadAhead.Sessions?) in
            if readingAhead {
                let readAhead = SessionReadAhead(clock: clock, bytes: bytes.count)
                let document = try parse(bytes, name: path, readAhead: readAhead)
                if let sessions = readAhead.finish() { return (document, sessions) }
            }
            return (try parse(bytes, name: path), nil)
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), base != MAP_FAILED else {
            // A file system that cannot map it: read it whole instead.
            return try read(fd, size: size, path: path).withUnsafeBufferPointer { try whole($0) }
        }
        defer { munmap(base, size) }
        return try whole(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size))
    }

    /// `size` bytes from `fd`, read into one buffer.
    static func read(_ fd: Int32, size: Int, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw LoadError(description: "\(path): cannot read the file") }
            done += n
        }
        return bytes
    }

    static func parse(_ bytes: [UInt8], name: String) throws -> JSON {
        try bytes.withUnsafeBufferPointer { try parse($0, name: name) }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, name: String, readAhead: SessionReadAhead? = nil) throws
        -> JSON
    {
        do {
            guard let readAhead else {
                return try JSON.parse(bytes, maxDepth: Fixture.maxDepth, keepingEncoded: "events")
            }
            return try JSON.parse(
                bytes, maxDepth: Fixture.maxDepth, keepingEncoded: "events", elementsOf: "sessions",
                progress: readAhead.observe)
        } catch {
            readAhead?.cancel()
            throw LoadError(description: "\(name): $: not valid JSON: \(error.description)")
        }
    }
}

/// Lines on stdout and stderr, written whole (the ready line is one write).
enum Console {
    static func out(_ text: String) { put(text, to: 1) }
    static func error(_ text: String) { put(text, to: 2) }

    private static func put(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            done += n
        }
    }
}
