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
    ///
    /// `candidates`, when given, are the ascending indexes of the only items that can
    /// match (an index of the log by event type): the page walks those instead of the
    /// whole collection, so a filter that matches little costs the page, not the log.
    public func cut<All: RandomAccessCollection>(
        _ all: All, candidates: [Int32]? = nil, id: (All.Element) -> String, index: (String) -> Int?,
        matches: (All.Element) -> Bool = { _ in true }
    ) throws(DomainError) -> Page<All.Element> where All.Index == Int {
        typealias Item = All.Element
        // Positions (cursors, candidates) count from the collection's first item.
        precondition(all.startIndex == 0, "a page is cut from a collection indexed from 0")
        let n = all.count
        let slots = candidates?.count ?? n
        func indexAt(_ slot: Int) -> Int { candidates.map { Int($0[slot]) } ?? slot }
        /// The first slot whose index is above `i` (binary search over the candidates).
        func firstSlot(above i: Int) -> Int {
            guard let candidates else { return i + 1 }
            var low = 0
            var high = candidates.count
            while low < high {
                let mid = (low + high) / 2
                if Int(candidates[mid]) <= i { low = mid + 1 } else { high = mid }
            }
            return low
        }
        /// The last slot whose index is below `i`.
        func lastSlot(below i: Int) -> Int { firstSlot(above: i - 1) - 1 }

        func locate(_ cursorID: String) throws(DomainError) -> Int {
            guard let i = index(cursorID), i < n else {
                throw DomainError.invalid(
                    "\(cursorParam ?? "cursor") '\(cursorID)' is not in this collection.", param: cursorParam ?? "page")
            }
            return i
        }

        // Which way the page walks (up: ascending indexes), and from which slot.
        let up: Bool
        var slot: Int
        let backwards: Bool  // a `before` cursor: the page is gathered against the order, then turned
        switch cursor {
        case .none:
            up = order == .asc
            slot = up ? 0 : slots - 1
            backwards = false
        case .after(let cursorID):
            let i = try locate(cursorID)
            up = order == .asc
            slot = up ? firstSlot(above: i) : lastSlot(below: i)
            backwards = false
        case .before(let cursorID):
            let i = try locate(cursorID)
            up = order == .desc
            slot = up ? firstSlot(above: i) : lastSlot(below: i)
            backwards = true
        }
        var picked: [Item] = []
        var hasMore = false
        while slot >= 0 && slot < slots {
            let candidate = all[indexAt(slot)]
            slot += up ? 1 : -1
            guard matches(candidate) else { continue }
            if picked.count == limit {
                hasMore = true
                break
            }
            picked.append(candidate)
        }
        if backwards {
            picked.reverse()
            let next: PageRequest.Cursor = hasMore ? .before(id(picked[0])) : .none
            return Page(items: picked, hasMore: hasMore, nextCursor: next)
        }
        let next: PageRequest.Cursor = hasMore ? .after(id(picked[picked.count - 1])) : .none
        return Page(items: picked, hasMore: hasMore, nextCursor: next)
    }
}
