// The libFuzzer entry points of every fuzz target (scripts/fuzz.sh builds them into one binary
// with the modules they test). The target is the binary's name after `fuzz-` (fuzz.sh links
// `fuzz-query` and the others to the one binary, so libFuzzer's own reproduction lines work as
// printed), or FUZZ_TARGET when set.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum FuzzTarget: String, CaseIterable {
    case json, query
    case pageToken = "page-token"
    case timestamp, fixture, http

    func run(_ input: [UInt8]) {
        switch self {
        case .json: fuzzJSON(input)
        case .query: fuzzQuery(input)
        case .pageToken: fuzzPageToken(input)
        case .timestamp: fuzzTimestamp(input)
        case .fixture: fuzzFixture(input)
        case .http: fuzzHTTP(input)
        }
    }
}

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>
) -> Int32 {
    var name = getenv("FUZZ_TARGET").map { String(cString: $0) }
    if name == nil, let program = argv.pointee[0].map({ String(cString: $0) }) {
        let base = program.split(separator: "/").last.map(String.init) ?? program
        if base.hasPrefix("fuzz-") { name = String(base.dropFirst(5)) }
    }
    guard let name, let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fatalError("choose a target (\(known)): run it as fuzz-<target> or set FUZZ_TARGET")
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.run(input)
    return 0
}

/// Stops the run when an invariant does not hold. `precondition` would lose its message in an
/// optimized build; `fatalError` keeps it, and libFuzzer saves the input that broke it.
func expect(_ holds: Bool, _ what: @autoclosure () -> String) {
    if !holds { fatalError("invariant broken: \(what())") }
}

/// Text as a transport would hand it over: bytes that are not UTF-8 are repaired.
func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

/// Byte equality: String's `==` treats canonically equivalent texts as equal, a round trip must not.
func sameBytes(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
