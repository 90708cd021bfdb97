import Foundation
import Testing

/// The Traefik and Envoy snippets in docs/gateways/ are YAML that says what the guide says:
/// checked for syntax (PyYAML, from the detect-secrets venv `make test` builds) and for the
/// settings ivkeys depends on. (nginx's snippet is run for real: NginxTests.)
@Suite struct GatewayConfigTests {
  static let python = DocsTests.root.path + "/.build/detect-secrets-venv/bin/python"

  /// The YAML file as JSON objects, through PyYAML's safe loader.
  func load(_ name: String) throws -> [String: Any] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.python)
    p.arguments = [
      "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
      DocsTests.root.path + "/docs/gateways/" + name,
    ]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(name) is not YAML")
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "make test creates the venv"))
  func traefikForwardAuthAsksServe() throws {
    let y = try load("traefik.yml")
    let http = try #require(y["http"] as? [String: Any])
    let middlewares = try #require(http["middlewares"] as? [String: Any])
    let auth = try #require((middlewares["ivkeys"] as? [String: Any])?["forwardAuth"] as? [String: Any])
    #expect(auth["address"] as? String == "http://127.0.0.1:8181/verify")
    let sent = Set(try #require(auth["authRequestHeaders"] as? [String]))
    #expect(sent.isSuperset(of: ["Authorization", "X-IVKeys-Company", "X-IVKeys-Scope", "X-Forwarded-For"]))
    let routers = try #require(http["routers"] as? [String: [String: Any]])
    for (name, router) in routers {
      let chain = try #require(router["middlewares"] as? [String])
      #expect(chain.last == "ivkeys", "\(name): the scope is set before ivkeys is asked")
    }
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "make test creates the venv"))
  func envoyExtAuthzAsksServeAndFailsClosed() throws {
    let y = try load("envoy.yaml")
    let text = String(decoding: try JSONSerialization.data(withJSONObject: y), as: UTF8.self)
    let resources = try #require(y["static_resources"] as? [String: Any])
    let listener = try #require((resources["listeners"] as? [[String: Any]])?.first)
    let chain = try #require((listener["filter_chains"] as? [[String: Any]])?.first)
    let manager = try #require((chain["filters"] as? [[String: Any]])?.first?["typed_config"] as? [String: Any])
    let filters = try #require(manager["http_filters"] as? [[String: Any]])
    #expect(
      filters.map { $0["name"] as? String ?? "" } == [
        "envoy.filters.http.header_mutation", "envoy.filters.http.ext_authz", "envoy.filters.http.router",
      ])
    let authz = try #require(filters[1]["typed_config"] as? [String: Any])
    #expect(authz["failure_mode_allow"] as? Bool == false)
    let service = try #require(authz["http_service"] as? [String: Any])
    #expect(service["path_prefix"] as? String == "/verify")
    #expect((service["server_uri"] as? [String: Any])?["uri"] as? String == "http://127.0.0.1:8181")
    for header in ["authorization", "x-ivkeys-company", "x-ivkeys-scope", "x-ivkeys-key-id", "ratelimit-remaining"] {
      #expect(text.contains("\"exact\":\"\(header)\""), "\(header)")
    }
  }
}
