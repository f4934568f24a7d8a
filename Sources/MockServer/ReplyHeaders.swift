import CLibevent
import MockHTTP

/// How a whole reply's header lines get into evhttp's reply: packed into the value of one
/// header, which evhttp prints as it is (`Date: <date>\r\nContent-Type: ...\r\n...`).
///
/// evhttp prints every header it holds with a printf of its own, after storing it in three
/// allocations and checking it, and scans them all each time it looks for one; with the API's
/// request ids and our version, a list-threads answer has six, which cost about 2,300
/// instructions each. evhttp reads some headers back (it adds `Date` and `Content-Length` when
/// absent, closes the connection on `Connection: close`): those are added on their own, and the
/// date heads the packed header. It would add a `Content-Type` of its own to a reply without
/// one, but it has no default type here (`LibeventServer.init`). A field whose name or value
/// would break a line (CR, LF, NUL) is left out, as evhttp refused it.
enum ReplyHeaders {
    /// Adds `headers` and the date (the reply's own, or now's) to `out`. The length is the
    /// caller's to add, from the body itself: a reply's own `Content-Length` is dropped.
    static func add(_ headers: HTTPHeaders, date: inout HTTPDate, to out: UnsafeMutablePointer<evkeyvalq>?) {
        var own: String?
        var size = 0
        for field in headers {
            size += field.name.utf8.count + field.value.utf8.count + 4
            if own == nil && readByEvhttp(field.name) == .date { own = field.value }
        }
        // A reply's own date (none sets one today) heads the lines instead of now's, once.
        let first = own ?? date.now()
        size += first.utf8.count
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { lines in
            var end = put(first, in: lines, at: 0) ?? 0
            for field in headers {
                switch readByEvhttp(field.name) {
                case .date, .length:
                    // Written once: the date above, the length by the caller from the body.
                    continue
                case .other:
                    LibeventServer.addHeader(out, field.name, field.value)
                    continue
                case nil:
                    break
                }
                guard !field.name.isEmpty, let name = put(field.name, in: lines, at: end + 2) else { continue }
                lines[name] = UInt8(ascii: ":")
                lines[name + 1] = UInt8(ascii: " ")
                guard let value = put(field.value, in: lines, at: name + 2) else { continue }
                lines[end] = 13
                lines[end + 1] = 10
                end = value
            }
            _ = lines.withMemoryRebound(to: CChar.self) { cam_append_header(out, "Date", $0.baseAddress, end) }
        }
    }

    /// Copies `text` into `lines` from `offset`, and returns where it ends; nil, and nothing
    /// to keep, if it would break a line.
    private static func put(_ text: String, in lines: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int? {
        var text = text
        return text.withUTF8 { bytes in
            for byte in bytes where byte == 13 || byte == 10 || byte == 0 { return nil }
            guard let from = bytes.baseAddress, let to = lines.baseAddress else { return offset }
            (to + offset).update(from: from, count: bytes.count)
            return offset + bytes.count
        }
    }

    enum ReadBack { case date, length, other }

    /// Whether evhttp looks for this header in a reply, which must then be a header of its own
    /// (nil: it does not). `Content-Type` is not among them only because no default type is set:
    /// with one, evhttp would add it to every reply whose type is packed.
    static func readByEvhttp(_ name: String) -> ReadBack? {
        switch name.utf8.count {
        case 4: HTTPHeaders.sameName(name, "Date") ? .date : nil
        case 10: HTTPHeaders.sameName(name, "Connection") ? .other : nil
        case 14: HTTPHeaders.sameName(name, "Content-Length") ? .length : nil
        case 16: HTTPHeaders.sameName(name, "Proxy-Connection") ? .other : nil
        case 17: HTTPHeaders.sameName(name, "Transfer-Encoding") ? .other : nil
        default: nil
        }
    }
}
