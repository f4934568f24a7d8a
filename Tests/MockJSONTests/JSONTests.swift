import XCTest

@testable import MockJSON

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,null,2.50,-3e2],"c":"请调研 \"x\"\n"}"#
        XCTAssertEqual(try JSON.parse(text).encodedString(), text)
    }
}

final class PlainRunTests: XCTestCase {
    /// The eight-bytes-at-a-time scan must stop exactly where a byte-by-byte scan stops,
    /// for every special byte at every place in and across words.
    func testTheWordScanStopsWhereTheByteScanStops() {
        let specials: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x1F, 0x80, 0xC3, 0xFF]
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x41, 0x7E]
        for length in 0..<20 {
            for at in 0...length {
                for special in specials {
                    var bytes = (0..<length).map { plain[$0 % plain.count] }
                    if at < length { bytes[at] = special }
                    let expected = at < length ? at : length
                    for start in 0...min(at, 3) {
                        let found = bytes.withUnsafeBufferPointer { CompactScanner.skipPlain($0, from: start) }
                        XCTAssertEqual(found, expected, "length \(length), \(special) at \(at), from \(start)")
                    }
                }
            }
        }
    }
}
