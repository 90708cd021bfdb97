import Foundation
import Testing

@testable import IVKeysCore

/// Many hosts on one vault: four gateways deciding and two administrators changing keys, all at
/// once for 20 seconds against one PostgreSQL vault. Nothing may be lost, fail or be counted
/// twice, and the audit log must stay one chain. (The length is how long the load runs, not a
/// speed any step must reach.)
@Suite("PostgreSQL under concurrent load")
struct PostgresConcurrencyTests {
  static let seconds: TimeInterval = 20

  /// What one gateway sent and was told.
  final class Gateway: @unchecked Sendable {
    var sent: [String: (requests: Int, errors: Int)] = [:]
    var wrongAnswers: [String] = []
  }

  /// What one administrator did.
  final class Admin: @unchecked Sendable {
    var commands = 0
    var created = 0
    var failures: [String] = []
  }

  @Test func fourGatewaysAndTwoAdministratorsLoseNothing() throws {
    let s = try Sandbox(engine: .postgresql)
    let keys = try (0..<4).map { _ in try s.createKey() }
    let spare = try (0..<2).map { _ in try s.createKey(company: "other") }
    let (keysBefore, auditBefore) = (s.keyCount, s.auditCount)
    let end = Date().addingTimeInterval(Self.seconds)
    let gateways = (0..<4).map { _ in Gateway() }
    let admins = (0..<2).map { _ in Admin() }
    let group = DispatchGroup()
    for (n, g) in gateways.enumerated() {
      DispatchQueue.global().async(group: group) {
        do {
          try Self.runGateway(s, keys, number: n, until: end, into: g)
        } catch {
          g.wrongAnswers.append("gateway \(n): \(error)")
        }
      }
    }
    for (n, a) in admins.enumerated() {
      DispatchQueue.global().async(group: group) { Self.runAdmin(s, spare[n], until: end, into: a) }
    }
    group.wait()

    for g in gateways { #expect(g.wrongAnswers.isEmpty, "\(g.wrongAnswers.prefix(3))") }
    for a in admins {
      #expect(a.failures.isEmpty, "\(a.failures.prefix(3))")
      #expect(a.commands > 0)
    }
    let verify = s.run("audit", "verify")
    #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    // Usage is exact: every request each gateway sent, and every refusal, counted once.
    var decisions = 0
    for k in keys {
      let requests = gateways.reduce(0) { $0 + ($1.sent[k.id]?.requests ?? 0) }
      let errors = gateways.reduce(0) { $0 + ($1.sent[k.id]?.errors ?? 0) }
      decisions += requests
      #expect(try s.count("SELECT request_count FROM keys WHERE id = '\(k.id)'") == Int64(requests))
      #expect(try s.count("SELECT error_count FROM keys WHERE id = '\(k.id)'") == Int64(errors))
    }
    #expect(decisions > 0)
    // No write lost: every decision has its entry, every key an administrator made is there.
    let created = admins.reduce(0) { $0 + $1.created }
    #expect(s.keyCount == keysBefore + Int64(created))
    let entries = try s.count("SELECT count(*) FROM audit WHERE event IN ('auth.succeeded', 'auth.failed')")
    #expect(entries == Int64(decisions))
    #expect(s.auditCount > auditBefore + Int64(decisions))
  }

  /// A `verify --batch` coprocess, one request and answer at a time; every tenth request asks for
  /// a scope the key lacks (403).
  static func runGateway(
    _ s: Sandbox, _ keys: [(id: String, key: String)], number: Int, until end: Date, into g: Gateway
  )
    throws
  {
    let (p, input, output) = try s.startCoprocess(["verify", "--batch", "--env", "live"])
    var pending = Data()
    var i = number
    while Date() < end {
      let k = keys[i % keys.count]
      let refused = i % 10 == 0
      let scope = refused ? "candidates:write" : "jobs:read"
      let line = #"{"key":"\#(k.key)","company":"acme","scope":"\#(scope)","ip":"10.0.\#(number).\#(i % 200)"}"#
      input.fileHandleForWriting.write(Data((line + "\n").utf8))
      while !pending.contains(0x0a) {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { throw Sandbox.SandboxError.initFailed("the stream ended") }
        pending.append(chunk)
      }
      let cut = pending.firstIndex(of: 0x0a)!
      let answer = String(decoding: pending[..<cut], as: UTF8.self)
      pending.removeSubrange(...cut)
      let expected = refused ? #""code":"insufficient_scope""# : #""code":"ok""#
      if !answer.contains(expected) { g.wrongAnswers.append(answer) }
      var counts = g.sent[k.id] ?? (0, 0)
      counts.requests += 1
      if refused { counts.errors += 1 }
      g.sent[k.id] = counts
      i += 1
    }
    // End of input: the stream writes the usage it holds and exits.
    try input.fileHandleForWriting.close()
    p.waitUntilExit()
    if p.terminationStatus != 0 { g.wrongAnswers.append("gateway \(number) exited \(p.terminationStatus)") }
  }

  /// An administrator making keys and changing one of its own, command after command.
  static func runAdmin(_ s: Sandbox, _ own: (id: String, key: String), until end: Date, into a: Admin) {
    var i = 0
    while Date() < end {
      let args: [String]
      switch i % 4 {
      case 0: args = ["create", "--company", "other", "--name", "made \(i)", "--scope", "jobs:read", "-q"]
      case 1: args = ["update", own.id, "--name", "renamed \(i)"]
      case 2: args = ["suspend", own.id, "--reason", "check \(i)"]
      default: args = ["resume", own.id]
      }
      let r = s.run(args)
      a.commands += 1
      if r.status != 0 { a.failures.append("\(args): \(r.status) \(r.stderr)") } else if i % 4 == 0 { a.created += 1 }
      i += 1
    }
  }
}
