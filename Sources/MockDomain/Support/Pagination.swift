import MockJSON

/// The list parameters of API.md section 4, validated.
public struct PageRequest: Equatable {
    public enum Order: String { case asc, desc }
    public enum Cursor: Equatable {
        case none
        case after(String)
        case before(String)
    }

    public static let defaultLimit = 20
    public static let maxLimit = 100

    public var limit: Int
    public var order: Order
    public var cursor: Cursor
    /// Which parameter carried the cursor, to name it in a 400.
    public var cursorParam: String?

    public init(
        limit: Int = PageRequest.defaultLimit, order: Order = .asc, cursor: Cursor = .none, cursorParam: String? = nil
    ) {
        self.limit = limit
        self.order = order
        self.cursor = cursor
        self.cursorParam = cursorParam
    }
}

/// One page cut from an ordered collection.
public struct Page<Item> {
    public var items: [Item]
    public var hasMore: Bool
    public var nextCursor: PageRequest.Cursor
}

extension PageRequest {
    /// Cuts a page from `all` (in the collection's natural, ascending order).
    /// Cursors are positions in the whole collection; `matches` filters what is
    /// listed. So a cursor stays valid when items are appended or change status
    /// between calls, and each item is visited once.
    public func cut<Item>(
        _ all: [Item], id: (Item) -> String, index: (String) -> Int?, matches: (Item) -> Bool = { _ in true }
    ) throws(DomainError) -> Page<Item> {
        // Positions in travel order: ascending indexes for asc, descending for desc.
        let n = all.count
        func position(ofIndex i: Int) -> Int { order == .asc ? i : n - 1 - i }
        func item(atPosition p: Int) -> Item { all[order == .asc ? p : n - 1 - p] }

        func locate(_ cursorID: String) throws(DomainError) -> Int {
            guard let i = index(cursorID), i < n else {
                throw DomainError.invalid(
                    "\(cursorParam ?? "cursor") '\(cursorID)' is not in this collection.", param: cursorParam ?? "page")
            }
            return position(ofIndex: i)
        }

        var picked: [Item] = []
        var hasMore = false
        switch cursor {
        case .none, .after:
            var p = 0
            if case .after(let cursorID) = cursor { p = try locate(cursorID) + 1 }
            while p < n {
                let candidate = item(atPosition: p)
                p += 1
                guard matches(candidate) else { continue }
                if picked.count == limit {
                    hasMore = true
                    break
                }
                picked.append(candidate)
            }
            let next: PageRequest.Cursor = hasMore ? .after(id(picked[picked.count - 1])) : .none
            return Page(items: picked, hasMore: hasMore, nextCursor: next)
        case .before(let cursorID):
            var p = try locate(cursorID) - 1
            while p >= 0 {
                let candidate = item(atPosition: p)
                p -= 1
                guard matches(candidate) else { continue }
                if picked.count == limit {
                    hasMore = true
                    break
                }
                picked.append(candidate)
            }
            picked.reverse()
            let next: PageRequest.Cursor = hasMore ? .before(id(picked[0])) : .none
            return Page(items: picked, hasMore: hasMore, nextCursor: next)
        }
    }
}
