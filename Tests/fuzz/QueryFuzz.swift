// The query string and percent-decoding target (`fuzz-query`). For any input it checks that:
// - `Query(raw:)` and `RequestPath.segments` agree with a plain byte-level decoder written
//   here again (the same pairs and segments, or the same refusal, as a value);
// - the pairs of an accepted query, percent-encoded again, parse back to the same pairs, in the
//   same order, repeats kept, and `first`, `all` and `has` answer from those pairs;
// - pairs and path segments made from the input (any text, `&`, `=`, `+`, `%` and `/`
//   included) survive encode → decode byte for byte;
// - a request target splits at its first `?` into the raw path and the raw query.

import MockHTTP

func fuzzQuery(_ input: [UInt8]) {
    let raw = text(input)
    checkQuery(raw)
    checkPath(raw)
    checkTarget(raw)
    // Input bytes below 0x03 separate made-up pairs (0x01) and keys from values (0x02).
    let made = input.split(separator: 0x01, omittingEmptySubsequences: false).map { part in
        let kv = part.split(separator: 0x02, maxSplits: 1, omittingEmptySubsequences: false)
        return (text(kv[0]), kv.count > 1 ? text(kv[1]) : "")
    }
    let spaceAsPlus = input.first.map { $0 & 1 == 0 } ?? true
    expectPairs(parse(encode(made, spaceAsPlus: spaceAsPlus)), made, "made-up pairs")
    let segments = made.map(\.0).filter { !$0.isEmpty }
    let path = "/" + segments.map { escape($0, spaceAsPlus: false) }.joined(separator: "/")
    guard case .success(let back) = pathSegments(path) else { fatalError("encoded segments do not decode: \(path)") }
    expect(back.count == segments.count && zip(back, segments).allSatisfy(sameBytes), "segments \(segments) → \(path)")
}

private func parse(_ raw: String) -> Result<[(String, String)], HTTPRequestError> {
    do throws(HTTPRequestError) {
        return .success(try Query(raw: raw).pairs)
    } catch {
        return .failure(error)
    }
}

private func pathSegments(_ raw: String) -> Result<[String], HTTPRequestError> {
    do throws(HTTPRequestError) {
        return .success(try RequestPath.segments(raw).map(String.init))
    } catch {
        return .failure(error)
    }
}

private func expectPairs(
    _ got: Result<[(String, String)], HTTPRequestError>, _ want: [(String, String)], _ what: String
) {
    guard case .success(let pairs) = got else { fatalError("\(what): refused \(got)") }
    expect(
        pairs.count == want.count && zip(pairs, want).allSatisfy { sameBytes($0.0, $1.0) && sameBytes($0.1, $1.1) },
        "\(what): \(want) came back as \(pairs)")
}

private func checkQuery(_ raw: String) {
    let got = parse(raw)
    switch (got, referenceQuery(Array(raw.utf8))) {
    case (.success(let pairs), .success(let want)):
        expectPairs(got, want, "query \(raw.debugDescription)")
        expectPairs(parse(encode(pairs, spaceAsPlus: true)), pairs, "re-encoded query")
        expectPairs(parse(encode(pairs, spaceAsPlus: false)), pairs, "re-encoded query (%20)")
        var query: Query
        do throws(HTTPRequestError) { query = try Query(raw: raw) } catch { fatalError("parsed once, refused now") }
        for (key, _) in pairs {
            let same = pairs.filter { $0.0 == key }.map(\.1)
            expect(query.has(key), "has(\(key))")
            expect(query.first(key) == same.first, "first(\(key))")
            expect(query.all(key) == same, "all(\(key))")
        }
    case (.failure(let error), .failure(let want)):
        expect(error.message == want.message, "query refused with '\(error.message)', expected '\(want.message)'")
    default:
        fatalError("query \(raw.debugDescription): \(got) but the reference says otherwise")
    }
}

private func checkPath(_ raw: String) {
    let got = pathSegments(raw)
    switch (got, referenceSegments(Array(raw.utf8))) {
    case (.success(let segments), .success(let want)):
        expect(
            segments.count == want.count && zip(segments, want).allSatisfy(sameBytes),
            "path \(raw.debugDescription): \(segments), expected \(want)")
    case (.failure(let error), .failure(let want)):
        expect(error.message == want.message, "path refused with '\(error.message)', expected '\(want.message)'")
    default:
        fatalError("path \(raw.debugDescription): \(got) but the reference says otherwise")
    }
}

private func checkTarget(_ raw: String) {
    var request = HTTPRequest(method: "GET", target: raw)
    for _ in 0..<2 {
        let target = request.target
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            expect(sameBytes(request.rawPath, String(target[..<q])), "raw path of \(target.debugDescription)")
            expect(
                sameBytes(request.rawQuery, String(target[target.utf8.index(after: q)...])),
                "raw query of \(target.debugDescription)")
        } else {
            expect(sameBytes(request.rawPath, target) && request.rawQuery.isEmpty, "target without a query")
        }
        // Setting the target splits it again.
        request.target = "/x?" + raw
    }
}

// MARK: The reference: the same rules, written plainly over bytes

private let malformed = HTTPRequestError("Malformed percent-encoding in the request URL.")
private let notUTF8 = HTTPRequestError("The request URL does not decode to valid UTF-8.")

private func referenceDecode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> Result<String, HTTPRequestError> {
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"):
            (c | 0x20) - UInt8(ascii: "a") + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    var rest = bytes[...]
    while let c = rest.popFirst() {
        switch c {
        case UInt8(ascii: "%"):
            guard rest.count >= 2, let h = hex(rest[rest.startIndex]), let l = hex(rest[rest.startIndex + 1]) else {
                return .failure(malformed)
            }
            out.append(h * 16 + l)
            rest = rest.dropFirst(2)
        case UInt8(ascii: "+") where plusIsSpace: out.append(0x20)
        default: out.append(c)
        }
    }
    guard let s = String(validating: out, as: UTF8.self) else { return .failure(notUTF8) }
    return .success(s)
}

private func referenceQuery(_ bytes: [UInt8]) -> Result<[(String, String)], HTTPRequestError> {
    var pairs: [(String, String)] = []
    for part in bytes.split(separator: UInt8(ascii: "&")) {
        let eq = part.firstIndex(of: UInt8(ascii: "=")) ?? part.endIndex
        let key = referenceDecode(part[..<eq], plusIsSpace: true)
        guard case .success(let k) = key else { return key.map { _ in [] } }
        let value = eq == part.endIndex ? .success("") : referenceDecode(part[(eq + 1)...], plusIsSpace: true)
        guard case .success(let v) = value else { return value.map { _ in [] } }
        pairs.append((k, v))
    }
    return .success(pairs)
}

private func referenceSegments(_ bytes: [UInt8]) -> Result<[String], HTTPRequestError> {
    let parts = bytes.split(separator: UInt8(ascii: "/"))
    // A path without `%` is taken as it is (a `+` stays a `+`).
    var segments: [String] = []
    for part in parts {
        switch referenceDecode(part, plusIsSpace: false) {
        case .success(let s): segments.append(s)
        case .failure(let e): return .failure(e)
        }
    }
    return .success(segments)
}

// MARK: Encoding (the server has no encoder of its own: clients write queries)

private func escape(_ s: String, spaceAsPlus: Bool) -> String {
    let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for b in s.utf8 {
        if unreserved.contains(b) {
            out.append(b)
        } else if b == 0x20 && spaceAsPlus {
            out.append(UInt8(ascii: "+"))
        } else {
            out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
        }
    }
    return text(out)
}

private func encode(_ pairs: [(String, String)], spaceAsPlus: Bool) -> String {
    pairs.map { escape($0.0, spaceAsPlus: spaceAsPlus) + "=" + escape($0.1, spaceAsPlus: spaceAsPlus) }
        .joined(separator: "&")
}
