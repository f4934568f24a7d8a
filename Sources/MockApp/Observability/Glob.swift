/// Path patterns for the journal and faults: `*` matches any run of characters.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == t[ti], p[pi] != UInt8(ascii: "*") {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// `/api/v1/cloud/x` and `/v1/x/` both become `/v1/x`.
    public static func canonical(_ path: String) -> String {
        var p = path
        if p.hasPrefix("/api/v1/cloud/") || p == "/api/v1/cloud" { p = "/v1" + p.dropFirst("/api/v1/cloud".count) }
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
