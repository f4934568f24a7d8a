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
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let (scheme, secret): (String?, Substring) =
            parts.count == 2 ? (String(parts[0]), parts[1]) : (nil, parts.first ?? "")
        let shown = secret.count >= 12 ? "…" + secret.suffix(4) : "[redacted]"
        return scheme.map { "\($0) \(shown)" } ?? shown
    }
}
