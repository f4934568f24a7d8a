import Foundation
import MockApp
import MockJSON

/// Reads `--fixtures`: one JSON file, or a folder whose `*.json` files are merged
/// in name order (their tokens, agents and sessions lists are concatenated).
enum FixtureFiles {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    static func load(path: String?) throws -> (JSON, String) {
        guard let path else {
            guard let bytes = BundledResources.defaultFixtureBytes else {
                throw LoadError(description: "the built-in default fixture is missing from this build")
            }
            return (try parse(bytes, name: "(built-in default fixture)"), "(built-in default fixture)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LoadError(description: "\(path): no such file or folder")
        }
        if !isDirectory.boolValue {
            return (try parse(read(path), name: path), path)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
        guard !names.isEmpty else { throw LoadError(description: "\(path): the folder has no *.json fixture") }
        var merged: [String: [JSON]] = ["tokens": [], "agents": [], "sessions": []]
        for name in names {
            let file = (path as NSString).appendingPathComponent(name)
            let doc = try parse(read(file), name: file)
            guard case .object(let pairs) = doc else { throw LoadError(description: "\(file): $: expected an object") }
            for (key, value) in pairs {
                guard merged[key] != nil else {
                    throw LoadError(description: "\(file): $.\(key): unknown field (expected tokens, agents, sessions)")
                }
                guard case .array(let items) = value else {
                    throw LoadError(description: "\(file): $.\(key): expected an array, got \(value.typeName)")
                }
                merged[key]! += items
            }
        }
        let doc = JSON.object([
            ("tokens", .array(merged["tokens"]!)), ("agents", .array(merged["agents"]!)),
            ("sessions", .array(merged["sessions"]!)),
        ])
        return (doc, path)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "\(path): cannot read the file")
        }
        return [UInt8](data)
    }

    static func parse(_ bytes: [UInt8], name: String) throws -> JSON {
        do {
            return try JSON.parse(bytes, keepingEncoded: "events")
        } catch {
            throw LoadError(description: "\(name): $: not valid JSON: \(error.description)")
        }
    }
}

enum FileLimits {
    /// 1,000 concurrent streams need more descriptors than the usual soft limit.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max
        else { return }
        limit.rlim_cur = min(limit.rlim_max, 65536)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
