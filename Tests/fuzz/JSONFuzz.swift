// The JSON parser's target (`fuzz-json`). For any input it checks that:
// - the parser and its fast lane agree (both accept with the same encoding, or both refuse
//   with the same error), also with the input placed where the fast lane reads it;
// - what is accepted encodes, and parses back to the same value (strings byte for byte) and the
//   same bytes, compact and pretty;
// - a refusal's position is inside the input and its line and column start at 1.

import MockJSON

func fuzzJSON(_ input: [UInt8]) {
    check(input)
    check(Array("{\"events\":[".utf8) + input + Array("]}".utf8))
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
        expect(encoded == b.encoded(), "the fast lane encodes differently")
        guard case .success(let again) = outcome(encoded, fast: false) else {
            fatalError("the encoding of an accepted document does not parse")
        }
        expect(identical(again, a), "parse(encode(x)) is not x")
        expect(again.encoded() == encoded, "parse(encode(x)) encodes differently")
        guard case .success(let pretty) = outcome(a.prettyEncoded(), fast: false) else {
            fatalError("the pretty encoding does not parse")
        }
        expect(pretty.encoded() == encoded, "the pretty encoding reads back differently")
    case (.failure(let a), .failure(let b)):
        expect(a == b, "the fast lane refuses differently: \(a) vs \(b)")
        expect(a.offset >= 0 && a.offset <= bytes.count, "error offset outside the input")
        expect(a.line >= 1 && a.column >= 1, "line and column start at 1")
    default:
        fatalError("one lane accepts what the other refuses")
    }
}

/// Equal values, strings compared byte for byte (`==` on JSON compares strings as Swift does,
/// canonically equivalent texts alike: an encoder that normalized them would pass it).
private func identical(_ a: JSON, _ b: JSON) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)): sameBytes(x, y)
    case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy(identical)
    case (.object(let x), .object(let y)):
        x.count == y.count && zip(x, y).allSatisfy { sameBytes($0.0, $1.0) && identical($0.1, $1.1) }
    default: a == b
    }
}
