import XCTest

@testable import MockJSON

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,null,2.50,-3e2],"c":"请调研 \"x\"\n"}"#
        XCTAssertEqual(try JSON.parse(text).encodedString(), text)
    }
}
