// A libFuzzer target for the JSON parser (scripts/fuzz.sh builds and runs it; compiled with
// the MockJSON sources, so internal names are visible). For any input it checks that:
// - the parser and its fast lane agree (both accept with the same encoding, or both refuse
//   with the same error), also with the input placed where the fast lane reads it;
// - what is accepted encodes, and parses back to the same bytes, compact and pretty;
// - a refusal's position is inside the input and its line and column start at 1.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    check(input)
    check(Array("{\"events\":[".utf8) + input + Array("]}".utf8))
    return 0
}

private func outcome(_ bytes: [UInt8], fast: Bool) -> Result<JSON, JSONSyntaxError> {
    do throws(JSONSyntaxError) {
        return .success(try JSON.parse(bytes, keepingEncoded: fast ? "events" : nil))
    } catch {
        return .failure(error)
    }
}

private func check(_ bytes: [UInt8]) {
    let plain = outcome(bytes, fast: false)
    let fast = outcome(bytes, fast: true)
    switch (plain, fast) {
    case (.success(let a), .success(let b)):
        let encoded = a.encoded()
        precondition(encoded == b.encoded(), "the fast lane encodes differently")
        guard case .success(let again) = outcome(encoded, fast: false) else {
            preconditionFailure("the encoding of an accepted document does not parse")
        }
        precondition(again.encoded() == encoded, "parse(encode(x)) encodes differently")
        guard case .success(let pretty) = outcome(a.prettyEncoded(), fast: false) else {
            preconditionFailure("the pretty encoding does not parse")
        }
        precondition(pretty.encoded() == encoded, "the pretty encoding reads back differently")
    case (.failure(let a), .failure(let b)):
        precondition(a == b, "the fast lane refuses differently: \(a) vs \(b)")
        precondition(a.offset >= 0 && a.offset <= bytes.count, "error offset outside the input")
        precondition(a.line >= 1 && a.column >= 1, "line and column start at 1")
    default:
        preconditionFailure("one lane accepts what the other refuses")
    }
}
