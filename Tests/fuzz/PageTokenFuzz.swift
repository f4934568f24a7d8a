// The page-token target (`fuzz-page-token`). For any input it checks that:
// - the input as a token is refused, or decodes to a cursor with an id whose own token decodes
//   to the same cursor (byte for byte);
// - Base64URL decodes what it accepts to 3/4 of its length, refuses lengths of 4n+1 and
//   letters outside its alphabet, and what it decodes encodes back to a token of the same bytes;
// - any bytes encode to the alphabet, unpadded, and decode back;
// - a cursor on any non-empty id (the input as text) survives encode → decode.

import MockApp
import MockDomain

func fuzzPageToken(_ input: [UInt8]) {
    let token = text(input)
    if let cursor = PageToken.decode(token) {
        expect(!id(of: cursor).isEmpty, "token \(token.debugDescription) decodes to an empty id")
        guard let again = PageToken.encode(cursor) else { fatalError("a decoded cursor has no token") }
        expect(
            same(PageToken.decode(again), cursor),
            "\(cursor) → \(again) → \(String(describing: PageToken.decode(again)))")
    }

    let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    let wellFormed = token.utf8.allSatisfy(alphabet.contains) && token.utf8.count % 4 != 1
    if let bytes = Base64URL.decode(token) {
        expect(wellFormed, "Base64URL accepts \(token.debugDescription)")
        expect(bytes.count == token.utf8.count * 3 / 4, "\(token.utf8.count) letters decode to \(bytes.count) bytes")
        expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "decoded bytes do not survive encode → decode")
    } else {
        expect(!wellFormed, "Base64URL refuses \(token.debugDescription)")
    }

    let encoded = Base64URL.encode(input)
    expect(encoded.utf8.allSatisfy(alphabet.contains), "Base64URL writes outside its alphabet")
    expect(encoded.utf8.count == (input.count * 4 + 2) / 3, "\(input.count) bytes encode to \(encoded.utf8.count)")
    expect(Base64URL.decode(encoded) == input, "bytes do not survive encode → decode")

    if !token.isEmpty {
        for cursor in [PageRequest.Cursor.after(token), .before(token)] {
            guard let t = PageToken.encode(cursor) else { fatalError("\(cursor) has no token") }
            expect(same(PageToken.decode(t), cursor), "\(cursor) → \(t) → \(String(describing: PageToken.decode(t)))")
        }
    }
    expect(PageToken.encode(.none) == nil, "the end of a list has a token")
}

private func id(of cursor: PageRequest.Cursor) -> String {
    switch cursor {
    case .none: ""
    case .after(let id), .before(let id): id
    }
}

/// The same kind of cursor on the same bytes.
private func same(_ a: PageRequest.Cursor?, _ b: PageRequest.Cursor) -> Bool {
    switch (a, b) {
    case (.after(let x)?, .after(let y)), (.before(let x)?, .before(let y)): sameBytes(x, y)
    default: false
    }
}
