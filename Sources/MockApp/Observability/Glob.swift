/// Path patterns for the journal and faults: `*` matches any run of characters.
public enum Glob {
    /// Linear in the pattern and the text together: the literal pieces between stars are
    /// found left to right, each with a KMP search (the first piece anchored at the start,
    /// the last at the end), so no pattern can make one query cost pattern × path.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let t = Array(text.utf8)
        let pieces = pattern.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
        // No star: the whole text.
        if pieces.count == 1 { return pieces[0] == t }
        let first = pieces[0]
        let last = pieces[pieces.count - 1]
        guard t.count >= first.count + last.count, t.starts(with: first), t.suffix(last.count).elementsEqual(last)
        else { return false }
        var from = first.count
        let end = t.count - last.count
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let at = find(piece, in: t, from: from, before: end) else { return false }
            from = at + piece.count
        }
        return true
    }

    /// The first position at or after `from` where `piece` lies wholly before `end` (KMP).
    static func find(_ piece: [UInt8], in t: [UInt8], from: Int, before end: Int) -> Int? {
        var fail = [Int](repeating: 0, count: piece.count)
        var k = 0
        for i in 1..<max(piece.count, 1) {
            while k > 0 && piece[i] != piece[k] { k = fail[k - 1] }
            if piece[i] == piece[k] { k += 1 }
            fail[i] = k
        }
        var matched = 0
        var i = from
        while i < end {
            while matched > 0 && t[i] != piece[matched] { matched = fail[matched - 1] }
            if t[i] == piece[matched] { matched += 1 }
            if matched == piece.count { return i - piece.count + 1 }
            i += 1
        }
        return nil
    }

    /// `/api/v1/cloud/x` and `/v1/x/` both become `/v1/x`.
    public static func canonical(_ path: String) -> String {
        var p = path
        if p.hasPrefix("/api/v1/cloud/") || p == "/api/v1/cloud" { p = "/v1" + p.dropFirst("/api/v1/cloud".count) }
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
