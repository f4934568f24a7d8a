import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

final class ErrorEnvelopeTests: XCTestCase {
    func testAuthentication() throws {
        let d = try AppDriver()
        let path = "/v1/sessions/\(seedSession)/threads"
        try assertError(
            d.send("GET", path, token: nil), 401, "authentication_error",
            "Missing Authorization header; send 'Authorization: Bearer <token>'.")
        try assertError(
            d.send("GET", path, token: nil, headers: [("Authorization", "Basic abc")]), 401, "authentication_error",
            "Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.")
        try assertError(
            d.send("GET", path, token: nil, headers: [("Authorization", "Bearer ")]), 401, "authentication_error",
            "Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.")
        try assertError(
            d.send("GET", path, token: nil, headers: [("Authorization", "Bearer    ")]), 401, "authentication_error",
            "Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.")
        try assertError(
            d.send("GET", path, token: nil, headers: [("x-api-key", "abc")]), 401, "authentication_error",
            "Missing Authorization header; send 'Authorization: Bearer <token>'.")
        XCTAssertEqual(d.send("GET", path, token: nil, headers: [("Authorization", "bearer anything")]).status, 200)
    }

    func testConfiguredTokens() throws {
        var config = AppConfig()
        config.tokens = ["good"]
        let d = try AppDriver(config: config)
        let path = "/v1/sessions/\(seedSession)/threads"
        XCTAssertEqual(d.send("GET", path, token: "good").status, 200)
        try assertError(
            d.send("GET", path, token: "other"), 401, "authentication_error",
            "Invalid bearer token: the token is not valid or has been revoked.")
        try d.app.store.revokeToken("good")
        XCTAssertEqual(d.send("GET", path, token: "good").status, 401, "revoking the last token locks the API")
    }

    func testRequestIDIsEchoedOrGenerated() throws {
        let d = try AppDriver()
        let r = d.send("GET", "/v1/sessions/nope", headers: [("X-Request-Id", "req_from_client")])
        XCTAssertEqual(r.headers["x-request-id"], "req_from_client")
        XCTAssertEqual(r.headers["request-id"], "req_from_client")
        XCTAssertEqual(try JSON.parse(r.body)["request_id"], "req_from_client")
        let ok = d.send("GET", "/v1/sessions/\(seedSession)")
        XCTAssertTrue(ok.headers["x-request-id"]!.hasPrefix("req_"))
        XCTAssertEqual(ok.headers["x-request-id"], ok.headers["request-id"])
        XCTAssertEqual(ok.headers["X-Mock-Version"], MockVersion.current)
    }

    func testUnknownRouteWrongMethodAndBadEncoding() throws {
        let d = try AppDriver()
        try assertError(d.send("GET", "/v1/nothing/here"), 404, "not_found_error", "No route for GET /v1/nothing/here.")
        try assertError(d.send("GET", "/elsewhere"), 404, "not_found_error", "No route for GET /elsewhere.")
        let r = d.send("DELETE", "/v1/sessions/\(seedSession)/threads")
        try assertError(
            r, 405, "invalid_request_error",
            "Method DELETE is not allowed on /v1/sessions/\(seedSession)/threads; allowed: GET.")
        XCTAssertEqual(r.headers["Allow"], "GET")
        try assertError(
            d.send("GET", "/v1/sessions/\(seedSession)/threads?limit=%zz"), 400, "invalid_request_error",
            "Malformed percent-encoding in the request URL.")
        try assertError(
            d.send("GET", "/v1/sessions/%E0%A4"), 400, "invalid_request_error",
            "The request URL does not decode to valid UTF-8.")
        try assertError(
            d.send("GET", "/v1/sessions/\(seedSession)/threads?statuses[]=bogus"), 400, "invalid_request_error",
            "statuses[] has an unknown value 'bogus'; expected one of idle, running, blocked, archived, terminated.",
            param: "statuses[]")
    }

    func testCreateSessionValidation() throws {
        var config = AppConfig()
        config.maxBodyBytes = 64
        let d = try AppDriver(config: config)
        try assertError(
            d.send("POST", "/v1/sessions", body: "not json"), 400, "invalid_request_error",
            "Request body is not valid JSON: invalid literal at line 1, column 1 (byte 0).")
        try assertError(
            d.send("POST", "/v1/sessions", body: "[1]"), 400, "invalid_request_error",
            "Request body must be a JSON object, got array.")
        try assertError(
            d.send("POST", "/v1/sessions", body: "{}"), 400, "invalid_request_error", "agent is required.",
            param: "agent")
        try assertError(
            d.send("POST", "/v1/sessions", body: #"{"agent":"agent_zzz"}"#), 404, "not_found_error",
            "Agent 'agent_zzz' was not found.")
        try assertError(
            d.send("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a","title":5}"#), 400,
            "invalid_request_error", "title must be a string, got number.", param: "title")
        let big = "{\"agent\":\"" + String(repeating: "a", count: 100) + "\"}"
        try assertError(
            d.send("POST", "/v1/sessions", body: big), 413, "invalid_request_error",
            "Request body is 112 bytes; the limit is 64 bytes.")
        XCTAssertEqual(d.app.store.sessions.count, 1, "no refused request changed the state")
    }
}
