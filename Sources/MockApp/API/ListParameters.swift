import MockDomain
import MockHTTP
import MockJSON

extension PageRequest {
    /// Reads `limit`, `order` and the cursor parameters of a list request.
    init(query: Query, defaultOrder: Order = .asc) throws(APIError) {
        // No parameters (a plain list, the usual poll): the defaults, without looking for each.
        if query.pairs.isEmpty {
            self.init(order: defaultOrder)
            return
        }
        var limit = PageRequest.defaultLimit
        if let raw = query.first("limit") {
            // Digits only, so `1e3`, `2.0` and `+5` are refused like `abc`.
            let digits = raw.hasPrefix("-") ? raw.dropFirst() : Substring(raw)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
                throw APIError.invalid(
                    "limit must be an integer between 1 and \(PageRequest.maxLimit).", param: "limit")
            }
            // Values too long for Int are still positive integers: they cap at the maximum.
            let value = raw.hasPrefix("-") ? -1 : (Int(digits) ?? Int.max)
            guard value >= 1 else {
                throw APIError.invalid(
                    "limit must be an integer between 1 and \(PageRequest.maxLimit).", param: "limit")
            }
            limit = min(value, PageRequest.maxLimit)
        }
        var order = defaultOrder
        if let raw = query.first("order") {
            guard let o = Order(rawValue: raw) else {
                throw APIError.invalid("order must be 'asc' or 'desc', got '\(raw)'.", param: "order")
            }
            order = o
        }
        let given = ["after_id", "before_id", "page"].filter { query.has($0) }
        if given.count > 1 {
            throw APIError.invalid(
                "Only one of after_id, before_id and page may be given; got \(given.joined(separator: ", ")).",
                param: given[1])
        }
        var cursor = Cursor.none
        let cursorParam = given.first
        if let value = query.first("after_id") {
            cursor = .after(value)
        } else if let value = query.first("before_id") {
            cursor = .before(value)
        } else if let token = query.first("page") {
            guard let decoded = PageToken.decode(token) else {
                throw APIError.invalid("page is not a cursor this server issued.", param: "page")
            }
            cursor = decoded
        }
        if case .after(let id) = cursor, id.isEmpty {
            throw APIError.invalid("after_id must not be empty.", param: "after_id")
        }
        if case .before(let id) = cursor, id.isEmpty {
            throw APIError.invalid("before_id must not be empty.", param: "before_id")
        }
        self.init(limit: limit, order: order, cursor: cursor, cursorParam: cursorParam)
    }
}

/// The opaque `next_page` cursor: `after:<id>` or `before:<id>` in base64url, so a
/// client that sends it back with the same query continues where it stopped.
public enum PageToken {
    public static func encode(_ cursor: PageRequest.Cursor) -> String? {
        switch cursor {
        case .none: return nil
        case .after(let id): return Base64URL.encode(Array("after:\(id)".utf8))
        case .before(let id): return Base64URL.encode(Array("before:\(id)".utf8))
        }
    }

    public static func decode(_ token: String) -> PageRequest.Cursor? {
        guard let bytes = Base64URL.decode(token), String(validating: bytes, as: UTF8.self) != nil else {
            return nil
        }
        // The prefix is compared on bytes: as Characters, an id that starts with a combining mark
        // would join the `:` and its own token would not decode.
        func id(after prefix: String) -> String? {
            let n = prefix.utf8.count
            guard bytes.count > n, bytes.starts(with: prefix.utf8) else { return nil }
            return String(decoding: bytes[n...], as: UTF8.self)
        }
        if let id = id(after: "after:") { return .after(id) }
        if let id = id(after: "before:") { return .before(id) }
        return nil
    }
}

/// Builds the list body of API.md section 4 from a page of values.
enum ListBody {
    /// `{"data": [...]}` of already encoded items (an answer that is not a page).
    static func data(_ items: [[UInt8]]) -> [UInt8] {
        var out = Array("{\"data\":[".utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    static func encode<Item>(_ page: Page<Item>, id: (Item) -> String, item: (Item) -> [UInt8]) -> [UInt8] {
        encode(
            items: page.items.map(item), firstID: page.items.first.map(id), lastID: page.items.last.map(id),
            hasMore: page.hasMore, nextPage: PageToken.encode(page.nextCursor))
    }

    static func encode(items: [[UInt8]], firstID: String?, lastID: String?, hasMore: Bool, nextPage: String?)
        -> [UInt8]
    {
        encode(
            count: items.count, size: items.reduce(0) { $0 + $1.count },
            item: { out, i in out.append(contentsOf: items[i]) },
            firstID: firstID, lastID: lastID, hasMore: hasMore, nextPage: nextPage)
    }

    /// A page of events, each written straight into the body.
    static func encode(_ page: Page<StoredEvent>) -> [UInt8] {
        let events = page.items
        return encode(
            count: events.count, size: events.reduce(0) { $0 + $1.byteCount },
            item: { out, i in events[i].write(into: &out) },
            firstID: events.first?.id, lastID: events.last?.id, hasMore: page.hasMore,
            nextPage: PageToken.encode(page.nextCursor))
    }

    /// `{"data": [...]}` of events (an answer that is not a page).
    static func data(_ events: [StoredEvent]) -> [UInt8] {
        var out = Array("{\"data\":[".utf8)
        out.reserveCapacity(events.reduce(16) { $0 + $1.byteCount + 1 })
        for (i, event) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            event.write(into: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// The list envelope around `count` items that `item` writes (`size` bytes in all).
    private static func encode(
        count: Int, size: Int, item: (inout [UInt8], Int) -> Void, firstID: String?, lastID: String?, hasMore: Bool,
        nextPage: String?
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(
            size + count + 128 + (firstID?.utf8.count ?? 0) + (lastID?.utf8.count ?? 0) + (nextPage?.utf8.count ?? 0))
        out.appendLiteral("{\"data\":[")
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            item(&out, i)
        }
        out.appendLiteral("],\"first_id\":")
        JSON.writeString(firstID, into: &out)
        out.appendLiteral(",\"last_id\":")
        JSON.writeString(lastID, into: &out)
        if hasMore {
            out.appendLiteral(",\"has_more\":true,\"next_page\":")
        } else {
            out.appendLiteral(",\"has_more\":false,\"next_page\":")
        }
        JSON.writeString(nextPage, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < bytes.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(b2 & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text.utf8 {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        if values.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + 4, values.count)].map { $0 }
            out.append(chunk[0] << 2 | (chunk.count > 1 ? chunk[1] >> 4 : 0))
            if chunk.count > 2 { out.append((chunk[1] & 15) << 4 | chunk[2] >> 2) }
            if chunk.count > 3 { out.append((chunk[2] & 3) << 6 | chunk[3]) }
            i += 4
        }
        return out
    }
}
