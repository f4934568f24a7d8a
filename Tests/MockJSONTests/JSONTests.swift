import XCTest

@testable import MockJSON

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,null,2.50,-3e2],"c":"请调研 \"x\"\n"}"#
        XCTAssertEqual(try JSON.parse(text).encodedString(), text)
    }

    /// Syntax errors say where: the byte, and the line and column (characters, from 1).
    func testSyntaxErrorsGiveLineAndColumn() {
        func error(_ text: String) -> JSONSyntaxError? {
            do {
                _ = try JSON.parse(text)
                return nil
            } catch { return error }
        }
        XCTAssertEqual(error("nul")?.description, "invalid literal at line 1, column 1 (byte 0)")
        // Two-byte and three-byte characters count once in the column, in full in the byte offset.
        let e = error("{\n\t\"é\": \"调研\",\n  \"x\": tru }")
        XCTAssertEqual(e?.line, 3)
        XCTAssertEqual(e?.column, 8)
        XCTAssertEqual(e?.offset, Array("{\n\t\"é\": \"调研\",\n  \"x\": ".utf8).count)
        XCTAssertEqual(error("{\"a\":1,\r\n\"a\":2}")?.description, "duplicate key 'a' at line 2, column 1 (byte 9)")
        XCTAssertEqual(error("[1,2")?.line, 1)
        XCTAssertEqual(error("[1,2")?.column, 5)
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
