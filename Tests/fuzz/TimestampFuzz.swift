// The timestamp target (`fuzz-timestamp`). For any input it checks that:
// - `Timestamp.parse` agrees with a reference written here from RFC 3339's grammar (section
//   5.6 and the day limits of 5.7; a leap second counts as :59, fractions are cut to
//   milliseconds, and the instant must be writable with four-digit years);
// - an accepted text formats to 24 bytes that parse to the same instant, and a text already in
//   the API's own form (`2026-06-15T08:00:00.000Z`) formats back to itself;
// - any instant of the writable range (made from the input's first bytes) survives
//   format → parse.

import MockDomain

func fuzzTimestamp(_ input: [UInt8]) {
    let s = text(input)
    let parsed = Timestamp.parse(s)
    let want = referenceParse(Array(s.utf8))
    expect(
        parsed == want,
        "\(s.debugDescription) parses to \(String(describing: parsed)), expected \(String(describing: want))")
    if let t = parsed {
        let written = Timestamp.format(t)
        expect(written.utf8.count == 24, "\(t) formats to \(written.debugDescription)")
        expect(Timestamp.parse(written) == t, "\(t) → \(written) → \(String(describing: Timestamp.parse(written)))")
        if isAPIForm(Array(s.utf8)) { expect(written == s, "\(s) formats back as \(written)") }
    }
    var seed: UInt64 = 0
    for b in input.prefix(8) { seed = seed << 8 | UInt64(b) }
    let span = UInt64(Timestamp.latest - Timestamp.earliest + 1)
    let millis = Timestamp.earliest + Int64(seed % span)
    let written = Timestamp.format(millis)
    expect(
        Timestamp.parse(written) == millis, "\(millis) → \(written) → \(String(describing: Timestamp.parse(written)))")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` with seconds below 60: the one form the API writes.
private func isAPIForm(_ b: [UInt8]) -> Bool {
    guard b.count == 24 else { return false }
    let shape = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
    for (c, s) in zip(b, shape) {
        if s == UInt8(ascii: "d") {
            guard (48...57).contains(c) else { return false }
        } else if c != s {
            return false
        }
    }
    return b[17] < UInt8(ascii: "6")
}

private func referenceParse(_ b: [UInt8]) -> Int64? {
    var i = 0
    func digits(_ n: Int) -> Int? {
        guard i + n <= b.count, b[i..<i + n].allSatisfy({ (48...57).contains($0) }) else { return nil }
        defer { i += n }
        return b[i..<i + n].reduce(0) { $0 * 10 + Int($1 - 48) }
    }
    func take(_ options: String) -> UInt8? {
        guard i < b.count, options.utf8.contains(b[i]) else { return nil }
        defer { i += 1 }
        return b[i]
    }
    guard let year = digits(4), take("-") != nil, let month = digits(2), take("-") != nil, let day = digits(2),
        take("Tt") != nil, let hour = digits(2), take(":") != nil, let minute = digits(2), take(":") != nil,
        let second = digits(2)
    else { return nil }
    var millis = 0
    if take(".") != nil {
        var count = 0
        while let d = digits(1) {
            if count < 3 { millis = millis * 10 + d }
            count += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 3) { millis *= 10 }
    }
    var offset = 0
    guard let zone = take("Zz+-") else { return nil }
    if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
        guard let h = digits(2), take(":") != nil, let m = digits(2), h < 24, m < 60 else { return nil }
        offset = (h * 60 + m) * (zone == UInt8(ascii: "-") ? -1 : 1)
    }
    guard i == b.count else { return nil }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    guard (1...12).contains(month), (1...monthDays[month - 1]).contains(day), hour < 24, minute < 60, second <= 60
    else { return nil }
    // Days since 0000-01-01 (year 0 is a leap year), then moved to the Unix epoch.
    func daysBefore(year y: Int) -> Int { y == 0 ? 0 : 365 * y + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 + 1 }
    let days = daysBefore(year: year) + monthDays.prefix(month - 1).reduce(0, +) + day - 1 - daysBefore(year: 1970)
    let seconds = ((days * 24 + hour) * 60 + minute) * 60 + min(second, 59) - offset * 60
    let t = Int64(seconds) * 1000 + Int64(millis)
    return (Timestamp.earliest...Timestamp.latest).contains(t) ? t : nil
}
