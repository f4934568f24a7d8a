import Logging
import MockHTTP
import MockJSON

/// One step of the request pipeline: it may answer by itself, or call `next` and
/// work on what comes back (Hummingbird's middleware, in small). A step that
/// throws is answered by `ErrorAnswers`, the one place errors become responses,
/// so every step sees every reply below it as a reply, errors included.
public protocol PipelineStep {
    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply
}

/// Turns errors into responses: the envelope, the request id, the status's headers.
public struct ErrorAnswers {
    let logger: Logger

    public func response(_ error: APIError, requestID: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) { headers.add(name, value) }
        if error.status >= 500 {
            logger.error("answered \(error.status): \(error.message)", metadata: ["request_id": "\(requestID)"])
        }
        return HTTPResponse(
            status: error.status, headers: headers, body: error.envelope(requestID: requestID).encoded())
    }

    public func reply(_ error: APIError, requestID: String) -> Reply {
        .response(response(error, requestID: requestID))
    }
}

/// A group's steps in order, ending in the route's handler.
struct Pipeline {
    let run: (RequestContext) -> Reply

    init(_ steps: [PipelineStep], errors: ErrorAnswers) {
        var next: (RequestContext) -> Reply = { ctx in
            do throws(APIError) {
                // An empty query decodes to the empty `Query` the context starts with: only
                // a query string is worth a copy of the context.
                guard ctx.route.takesBody, !ctx.request.rawQuery.isEmpty else { return try ctx.route.handler(ctx) }
                var ctx = ctx
                do throws(HTTPRequestError) {
                    ctx.query = try Query(raw: ctx.request.rawQuery)
                } catch {
                    throw APIError(error)
                }
                return try ctx.route.handler(ctx)
            } catch {
                return errors.reply(error, requestID: ctx.requestID)
            }
        }
        for step in steps.reversed() {
            let inner = next
            next = { ctx in
                do throws(APIError) {
                    return try step.handle(ctx, next: inner)
                } catch {
                    return errors.reply(error, requestID: ctx.requestID)
                }
            }
        }
        run = next
    }
}
