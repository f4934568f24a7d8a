// A peer for the throughput benchmark: GET /api/v1/cloud/sessions/{id}/threads written as a
// Swift team would write it on Hummingbird 2. The fixture is read once into Codable models;
// every request builds the page and encodes it with JSONEncoder (Hummingbird's default
// response encoder). Answers the same JSON as the mock for the default fixture's session.
//
//   ThreadsPeer --fixture PATH [--port N]     (N = 0 picks a free port)
//
// Prints `threads-peer listening on http://127.0.0.1:PORT` once bound; SIGTERM stops it.

import Foundation
import Hummingbird
import Logging
import NIOCore

// MARK: The fixture, as much of it as the thread list needs (read with snake_case conversion)

struct FixtureFile: Decodable {
    var agents: [FixtureAgent]
    var sessions: [FixtureSession]
}

struct FixtureAgent: Decodable {
    var id: String
    var name: String
    var model: String
    var version: Int
}

struct FixtureSession: Decodable {
    var id: String
    var threads: [FixtureThread]?
}

struct FixtureThread: Decodable {
    var id: String
    var parentThreadId: String?
    var agentId: String
    var agentVersion: Int
    var name: String
    var role: String
    var status: String
    var stopReason: StopReason
    var createdByToolUseId: String?
    var archivedAt: String?
    var createdAt: String
    var updatedAt: String
}

// MARK: What the endpoint answers

struct StopReason: Codable, Sendable {
    var type: String?
    var eventIds: [String]?

    enum CodingKeys: String, CodingKey {
        case type
        case eventIds = "event_ids"
    }
}

struct AgentReference: Encodable, Sendable {
    var id: String
    var type = "agent"
    var name: String
    var model: String
    var version: Int
}

struct SessionThread: Encodable, Sendable {
    var id: String
    var type = "session_thread"
    var sessionId: String
    var parentThreadId: String?
    var agent: AgentReference
    var agentId: String
    var agentVersion: Int
    var name: String
    var role: String
    var status: String
    var stopReason: StopReason
    var createdByToolUseId: String?
    var archivedAt: String?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, type, agent, name, role, status
        case sessionId = "session_id"
        case parentThreadId = "parent_thread_id"
        case agentId = "agent_id"
        case agentVersion = "agent_version"
        case stopReason = "stop_reason"
        case createdByToolUseId = "created_by_tool_use_id"
        case archivedAt = "archived_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    // Written out so that absent optionals are sent as null, as the API does.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(parentThreadId, forKey: .parentThreadId)
        try container.encode(agent, forKey: .agent)
        try container.encode(agentId, forKey: .agentId)
        try container.encode(agentVersion, forKey: .agentVersion)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(status, forKey: .status)
        try container.encode(stopReason, forKey: .stopReason)
        try container.encode(createdByToolUseId, forKey: .createdByToolUseId)
        try container.encode(archivedAt, forKey: .archivedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

struct ThreadPage: ResponseEncodable, Sendable {
    var data: [SessionThread]
    var firstId: String?
    var lastId: String?
    var hasMore: Bool
    var nextPage: String?

    enum CodingKeys: String, CodingKey {
        case data
        case firstId = "first_id"
        case lastId = "last_id"
        case hasMore = "has_more"
        case nextPage = "next_page"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(firstId, forKey: .firstId)
        try container.encode(lastId, forKey: .lastId)
        try container.encode(hasMore, forKey: .hasMore)
        try container.encode(nextPage, forKey: .nextPage)
    }
}

/// Threads by session id, coordinator first, then in creation order; read-only after start.
func loadThreads(from path: String) throws -> [String: [SessionThread]] {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let fixture = try decoder.decode(FixtureFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    let agents = Dictionary(fixture.agents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    var bySession: [String: [SessionThread]] = [:]
    for session in fixture.sessions {
        let threads = (session.threads ?? []).map { thread in
            let agent = agents[thread.agentId]
            return SessionThread(
                id: thread.id,
                sessionId: session.id,
                parentThreadId: thread.parentThreadId,
                agent: AgentReference(
                    id: thread.agentId,
                    name: agent?.name ?? "",
                    model: agent?.model ?? "",
                    version: thread.agentVersion
                ),
                agentId: thread.agentId,
                agentVersion: thread.agentVersion,
                name: thread.name,
                role: thread.role,
                status: thread.status,
                stopReason: thread.stopReason,
                createdByToolUseId: thread.createdByToolUseId,
                archivedAt: thread.archivedAt,
                createdAt: thread.createdAt,
                updatedAt: thread.updatedAt
            )
        }
        bySession[session.id] = threads.enumerated().sorted { a, b in
            let keyA = (a.element.role == "coordinator" ? 0 : 1, a.element.createdAt, a.offset)
            let keyB = (b.element.role == "coordinator" ? 0 : 1, b.element.createdAt, b.offset)
            return keyA < keyB
        }.map(\.element)
    }
    return bySession
}

// MARK: Command line

var fixturePath: String?
var port = 0
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--fixture": fixturePath = arguments.next()
    case "--port": port = arguments.next().flatMap { Int($0) } ?? -1
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}
guard let fixturePath, port >= 0 else {
    FileHandle.standardError.write(Data("usage: ThreadsPeer --fixture PATH [--port N]\n".utf8))
    exit(2)
}

let threadsBySession = try loadThreads(from: fixturePath)

// MARK: The server

let router = Router()
@Sendable func listThreads(_ request: Request, _ context: BasicRequestContext) throws -> ThreadPage {
    guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
        authorization.count > "Bearer ".count
    else { throw HTTPError(.unauthorized) }
    let sessionID = try context.parameters.require("session_id")
    guard let threads = threadsBySession[sessionID] else { throw HTTPError(.notFound) }
    // The fixture's sessions have far fewer threads than a page holds, so one page is all.
    return ThreadPage(
        data: threads, firstId: threads.first?.id, lastId: threads.last?.id, hasMore: false, nextPage: nil)
}
router.get("/api/v1/cloud/sessions/:session_id/threads", use: listThreads)
router.get("/v1/sessions/:session_id/threads", use: listThreads)

var logger = Logger(label: "threads-peer") { StreamLogHandler.standardError(label: $0) }
logger.logLevel = .warning
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    onServerRunning: { channel in
        let line = "threads-peer listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    },
    logger: logger
)
try await app.runService()
