/// Secrets (tokens) compared and shown with care.
public enum Secrets {
    /// Whether `a` equals `b`, in a time that depends on their lengths only, not on
    /// where they first differ: a token cannot be guessed byte by byte from timings.
    public static func same(_ a: String, _ b: String) -> Bool {
        var x = a
        var y = b
        return x.withUTF8 { p in
            y.withUTF8 { q in
                var diff: UInt8 = p.count == q.count ? 0 : 1
                let n = max(p.count, q.count)
                for i in 0..<n {
                    diff |= (i < p.count ? p[i] : 0) ^ (i < q.count ? q[i] : 0)
                }
                return diff == 0
            }
        }
    }

    /// A credential as the journal shows it: the scheme kept, the secret cut to its last
    /// four characters when it is long enough that they give nothing away
    /// (`Bearer …9f2c`), else `[redacted]`.
    public static func masked(_ value: String) -> String {
        var bytes = value
        if let quick = bytes.withUTF8({ maskedPrintableASCII($0) }) { return quick }
        return maskedByCharacters(value)
    }

    /// `masked` as first written, on Characters: the reference for any value.
    static func maskedByCharacters(_ value: String) -> String {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let (scheme, secret): (String?, Substring) =
            parts.count == 2 ? (String(parts[0]), parts[1]) : (nil, parts.first ?? "")
        let shown = secret.count >= 12 ? "…" + secret.suffix(4) : "[redacted]"
        return scheme.map { "\($0) \(shown)" } ?? shown
    }

    /// Whether `masked(value)` is `shown`, without making the masked string when the value
    /// is printable ASCII: the journal compares a request's credential with the previous
    /// entry's masked one to share that entry's headers.
    public static func masked(_ value: String, is shown: String) -> Bool {
        var bytes = value
        var expected = shown
        let quick: Bool? = bytes.withUTF8 { b in
            guard let mask = PrintableMask(b) else { return nil }
            return expected.withUTF8 { mask.equals($0, of: b) }
        }
        return quick ?? (maskedByCharacters(value) == shown)
    }

    /// `masked` on bytes, for the usual value (printable ASCII): the journal masks the
    /// `Authorization` of every request it records. Nil for any other value.
    static func maskedPrintableASCII(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        guard let mask = PrintableMask(b) else { return nil }
        return String(unsafeUninitializedCapacity: mask.size) { out in
            var i = 0
            mask.pieces(of: b) { piece in
                for byte in piece {
                    out[i] = byte
                    i += 1
                }
            }
            return i
        }
    }

    /// How a printable ASCII value is masked, where each byte is one Character, so counting
    /// and splitting bytes is counting and splitting Characters. It follows
    /// `split(separator:maxSplits: 1, omittingEmptySubsequences: true)`: leading spaces are
    /// skipped, the first word is the scheme only when something follows the single space
    /// after it, and that remainder is kept whole.
    struct PrintableMask {
        /// The scheme's bytes, when the value has two parts.
        var scheme: Range<Int>?
        /// The secret's last four bytes, when it is long enough to show them.
        var tail: Range<Int>?

        static let space = UInt8(ascii: " ")
        static let ellipsis: StaticString = "…"
        static let redacted: StaticString = "[redacted]"

        init?(_ b: UnsafeBufferPointer<UInt8>) {
            for byte in b where byte < 0x20 || byte > 0x7E { return nil }
            let n = b.count
            var start = 0
            while start < n && b[start] == Self.space { start += 1 }
            var end = start
            while end < n && b[end] != Self.space { end += 1 }
            var secret = start..<n
            if end < n && end + 1 < n {
                scheme = start..<end
                secret = (end + 1)..<n
            } else if end < n {
                secret = start..<end
            }
            if secret.count >= 12 { tail = (secret.upperBound - 4)..<secret.upperBound }
        }

        var size: Int {
            (scheme.map { $0.count + 1 } ?? 0)
                + (tail == nil ? Self.redacted.utf8CodeUnitCount : Self.ellipsis.utf8CodeUnitCount + 4)
        }

        /// The masked form's bytes, in order.
        func pieces(of b: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            if let scheme {
                body(UnsafeBufferPointer(rebasing: b[scheme]))
                withUnsafePointer(to: Self.space) { body(UnsafeBufferPointer(start: $0, count: 1)) }
            }
            if let tail {
                body(UnsafeBufferPointer(start: Self.ellipsis.utf8Start, count: Self.ellipsis.utf8CodeUnitCount))
                body(UnsafeBufferPointer(rebasing: b[tail]))
            } else {
                body(UnsafeBufferPointer(start: Self.redacted.utf8Start, count: Self.redacted.utf8CodeUnitCount))
            }
        }

        func equals(_ shown: UnsafeBufferPointer<UInt8>, of b: UnsafeBufferPointer<UInt8>) -> Bool {
            guard shown.count == size else { return false }
            var i = 0
            var same = true
            pieces(of: b) { piece in
                for byte in piece {
                    if shown[i] != byte { same = false }
                    i += 1
                }
            }
            return same
        }
    }
}
