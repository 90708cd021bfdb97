import Testing

@testable import IVKeysCore

/// The audit chain's rule pinned to hashes computed outside Swift. The expected values were
/// computed with Python's standard library from the rule as documented in `AuditChain`:
///
///     import hmac, hashlib, struct
///     secret = b"0123456789abcdef0123456789abcdef"
///     ak = hmac.new(secret, b"ivkeys audit chain v1", hashlib.sha256).digest()
///     def f(s): return b"\x00" if s is None else b"\x01" + struct.pack(">I", len(s.encode())) + s.encode()
///     def h(prev, fields): return hmac.new(ak, prev.encode() + b"".join(map(f, fields)), hashlib.sha256).hexdigest()
///     h1 = h("0" * 64, ["1", "2026-11-30T12:00:00Z", "vault.initialized", "alice", "alice", None, None, None, "{}"])
///     h2 = h(h1, ["2", "2026-11-30T12:00:00Z", "key.created", "alice (sudo bob)", "alice",
///                 "0123456789ABCDEFabcdef0123456789", None, "192.0.2.7", '{"name":"Zürich"}'])
@Suite("audit chain: known answers")
struct AuditChainTests {
  static var secret: SecretFile { SecretFile(bytes: Array("0123456789abcdef0123456789abcdef".utf8)) }
  static let first = AuditRow(
    seq: 1, at: "2026-11-30T12:00:00Z", event: "vault.initialized", actor: "alice", osUser: "alice", keyID: nil,
    company: nil, ip: nil, detail: "{}", prevHash: AuditChain.genesis,
    hash: "4e1d50481cbac35071909a013b52c3098feb523b3c710f8b0db70ff9502c0ac0")
  static let second = AuditRow(
    seq: 2, at: "2026-11-30T12:00:00Z", event: "key.created", actor: "alice (sudo bob)", osUser: "alice",
    keyID: "0123456789ABCDEFabcdef0123456789", company: nil, ip: "192.0.2.7", detail: #"{"name":"Zürich"}"#,
    prevHash: first.hash, hash: "f579410380d80d0bc05f5e1474a075057a645b44e0cd33611b331ae1dfa18230")

  @Test func theWriterComputesTheKnownHashes() {
    let key = Self.secret.newest.auditKey
    #expect(AuditChain.hash(key: key, prevHash: AuditChain.genesis.utf8, entry: Self.first) == Self.first.hash)
    #expect(AuditChain.hash(key: key, prevHash: Self.first.hash.utf8, entry: Self.second) == Self.second.hash)
  }

  @Test func theVerifierAcceptsTheKnownChainAndNamesAChangedEntry() {
    var walk = ChainWalk(keys: [1: Self.secret.newest.auditKey], expectedHead: nil)
    walk.check(StoredRow(row: Self.first))
    walk.check(StoredRow(row: Self.second))
    let result = walk.result()
    #expect(result.intact)
    #expect(result.head?.hash == Self.second.hash)

    var edited = Self.second
    edited.ip = "192.0.2.8"
    var broken = ChainWalk(keys: [1: Self.secret.newest.auditKey], expectedHead: nil)
    broken.check(StoredRow(row: Self.first))
    broken.check(StoredRow(row: edited))
    #expect(broken.result().problem == .modified)
    #expect(broken.result().badSeq == 2)
  }

  @Test func anAbsentFieldIsNotAnEmptyOne() {
    var empty = Self.second
    empty.company = ""
    #expect(
      AuditChain.hash(key: Self.secret.newest.auditKey, prevHash: Self.first.hash.utf8, entry: empty)
        != Self.second.hash)
  }

  /// An entry as a store would hand it back.
  struct StoredRow: StoredAuditEntry {
    let row: AuditRow
    var seq: Int64 { row.seq }
    func withField<R>(_ field: AuditField, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
      row.withField(field, body)
    }
    func withPrevHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
      var s = row.prevHash
      return s.withUTF8(body)
    }
    func withHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
      var s = row.hash
      return s.withUTF8(body)
    }
  }
}
