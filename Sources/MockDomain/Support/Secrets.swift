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

    /// `masked` on bytes, for the usual value (printable ASCII, where each byte is one
    /// Character, so counting and splitting bytes is counting and splitting Characters):
    /// the journal masks the `Authorization` of every request it records. Nil for any
    /// other value. It follows `split(separator:maxSplits: 1, omittingEmptySubsequences: true)`:
    /// leading spaces are skipped, the first word is the scheme only when something
    /// follows the single space after it, and that remainder is kept whole.
    static func maskedPrintableASCII(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        let space = UInt8(ascii: " ")
        for byte in b where byte < 0x20 || byte > 0x7E { return nil }
        let n = b.count
        var start = 0
        while start < n && b[start] == space { start += 1 }
        var end = start
        while end < n && b[end] != space { end += 1 }
        // The scheme's bounds, when the value has two parts, and where the secret starts.
        var scheme: Range<Int>? = nil
        var secret = start..<n
        if end < n && end + 1 < n {
            scheme = start..<end
            secret = (end + 1)..<n
        } else if end < n {
            secret = start..<end
        }
        let ellipsis: StaticString = "…"
        let redacted: StaticString = "[redacted]"
        let long = secret.count >= 12
        let size =
            (scheme.map { $0.count + 1 } ?? 0)
            + (long ? ellipsis.utf8CodeUnitCount + 4 : redacted.utf8CodeUnitCount)
        return String(unsafeUninitializedCapacity: size) { out in
            var i = 0
            func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                for byte in bytes {
                    out[i] = byte
                    i += 1
                }
            }
            if let scheme {
                put(UnsafeBufferPointer(rebasing: b[scheme]))
                out[i] = space
                i += 1
            }
            if long {
                put(UnsafeBufferPointer(start: ellipsis.utf8Start, count: ellipsis.utf8CodeUnitCount))
                put(UnsafeBufferPointer(rebasing: b[(secret.upperBound - 4)..<secret.upperBound]))
            } else {
                put(UnsafeBufferPointer(start: redacted.utf8Start, count: redacted.utf8CodeUnitCount))
            }
            return i
        }
    }
}
