import MockDomain

/// The last list body one route encoded, given back while the page it came from encodes
/// the same: the same number of items, each with the same encoded bytes, the same first
/// and last ids and the same continuation. A client polling a list (the usual test loop)
/// then gets the body without it being assembled and copied again.
///
/// Only routes whose items keep their encoding cached (the thread list) use it: for them
/// comparing an item's bytes with the kept ones is checking that they are the same
/// storage (`Array.==` answers that first, without reading a byte), since the cached
/// encoding is replaced, not changed, when its item changes. Different storage is then
/// compared byte for byte, so the body given back is always the one `ListBody` would make.
/// The loop owns it, like everything the handlers touch.
final class ListBodyCache<Item> {
    private var parts: [[UInt8]] = []
    private var firstID: String?
    private var lastID: String?
    private var hasMore = false
    private var nextCursor = PageRequest.Cursor.none
    private var body: [UInt8]?

    func encode(_ page: Page<Item>, id: (Item) -> String, item: (Item) -> [UInt8]) -> [UInt8] {
        if let body, same(page, id: id, item: item) { return body }
        let items = page.items.map(item)
        let made = ListBody.encode(
            items: items, firstID: page.items.first.map(id), lastID: page.items.last.map(id),
            hasMore: page.hasMore, nextPage: PageToken.encode(page.nextCursor))
        parts = items
        firstID = page.items.first.map(id)
        lastID = page.items.last.map(id)
        hasMore = page.hasMore
        nextCursor = page.nextCursor
        body = made
        return made
    }

    private func same(_ page: Page<Item>, id: (Item) -> String, item: (Item) -> [UInt8]) -> Bool {
        guard page.items.count == parts.count, page.hasMore == hasMore, page.nextCursor == nextCursor,
            page.items.first.map(id) == firstID, page.items.last.map(id) == lastID
        else { return false }
        for (kept, next) in zip(parts, page.items) where kept != item(next) { return false }
        return true
    }
}
