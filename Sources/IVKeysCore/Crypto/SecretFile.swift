import Glibc

/// The server secret: the HMAC key for key digests and, through derived keys, the audit chain and
/// the row seals. It lives in its own file, mode 0600, and never enters the vault.
///
/// The file holds one or more numbered versions (`ivkeys secret rotate` adds one). A file made by
/// `init` is a single secret: version 1, its bytes exactly the file's content without the final
/// newline. Once rotated, the file is
///
///     ivkeys-secret-v2
///     1 <the version's bytes in hex>
///     2 <…>
///
/// and `#` lines and blank lines are ignored.
public struct SecretFile {
  /// The smallest secret accepted, in bytes.
  public static let minimumLength = 32
  /// The first line of a file that holds numbered versions.
  static let versionedHeader = "ivkeys-secret-v2"

  /// The versions the file holds, lowest first. An array, not a dictionary keyed by number: a
  /// file holds one or two, and a dictionary's generic metadata costs every `verify` about
  /// 86,000 instructions to instantiate (callgrind).
  let versions: [SecretVersion]

  init(versions: [SecretVersion]) {
    self.versions = versions.sorted { $0.number < $1.number }
  }

  /// A file holding one secret, version 1.
  init(bytes: [UInt8]) {
    self.versions = [SecretVersion(number: 1, bytes: bytes)]
  }

  /// The version numbered `n`, if the file holds it.
  func version(_ n: Int) -> SecretVersion? { versions.first { $0.number == n } }

  /// The file without version `n`.
  func removing(_ n: Int) -> SecretFile { SecretFile(versions: versions.filter { $0.number != n }) }

  /// The file with `v` added (replacing a version of the same number).
  func adding(_ v: SecretVersion) -> SecretFile { SecretFile(versions: removing(v.number).versions + [v]) }

  /// The highest version the file holds.
  var newest: SecretVersion { versions[versions.count - 1] }

  /// Reads and checks the secret at `path`: a regular file that neither group nor others can
  /// read (OpenSSH refuses such private keys too), holding at least 32 bytes per version. A
  /// trailing newline is not part of a single secret.
  /// `vaultPath` names the vault the secret is for, when there is one: a missing secret then
  /// cannot be made anew, and the hint says so.
  public static func load(path: String, forVault vaultPath: String? = nil) throws(IVKeysError) -> SecretFile {
    var data = try readPrivateFile(path, vaultPath: vaultPath)
    if data.starts(with: Array((versionedHeader + "\n").utf8)) {
      return try parseVersioned(data, path: path)
    }
    if data.last == 0x0a { data.removeLast() }
    if data.last == 0x0d { data.removeLast() }
    guard data.count >= minimumLength else {
      throw .secret("the secret file \(path) holds \(data.count) bytes; at least \(minimumLength) are needed")
    }
    return SecretFile(bytes: data)
  }

  /// The content of a secret file, refused when it is not a regular file of the owner's alone.
  static func readPrivateFile(_ path: String, vaultPath: String?) throws(IVKeysError) -> [UInt8] {
    // O_NONBLOCK: a FIFO put in the secret's place must not hang every command.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
      let e = errno
      if e == ENOENT {
        throw .secret("no secret file at \(path)", hint: missingSecretHint(vaultPath: vaultPath))
      }
      throw .secret("cannot read the secret file \(path): \(Errno.describe(e))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw .secret("the secret file \(path) is not a regular file")
    }
    guard st.st_mode & 0o077 == 0 else {
      let mode = String(st.st_mode & 0o777, radix: 8)
      throw .secret(
        "the secret file \(path) is readable by group or others (mode \(mode))",
        hint: "chmod 600 \(path)")
    }
    var data = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 4096)
    while data.count <= 65536 {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 { throw .secret("cannot read the secret file \(path): \(Errno.current)") }
      if n == 0 { break }
      data.append(contentsOf: chunk[0..<n])
    }
    guard data.count <= 65536 else {
      throw .secret("the secret file \(path) is larger than 64 KiB; is it the right file?")
    }
    return data
  }

  /// Parses a file of numbered versions (see the type's comment).
  static func parseVersioned(_ data: [UInt8], path: String) throws(IVKeysError) -> SecretFile {
    var versions = [SecretVersion]()
    let lines = data.split(separator: 0x0a, omittingEmptySubsequences: false).dropFirst()
    for (index, raw) in lines.enumerated() {
      var line = String(decoding: raw, as: UTF8.self)
      if line.hasSuffix("\r") { line.removeLast() }
      if line.isEmpty || line.hasPrefix("#") { continue }
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      // Line numbers count the header as line 1.
      guard parts.count == 2, let n = Int(parts[0]), n >= 1, n <= 1_000_000, let bytes = Crypto.unhex(String(parts[1]))
      else {
        throw .secret(
          "the secret file \(path) is damaged at line \(index + 2): expected '<version> <hex>'",
          hint: "restore it from its backup")
      }
      guard bytes.count >= minimumLength else {
        throw .secret(
          "version \(n) in the secret file \(path) holds \(bytes.count) bytes; at least \(minimumLength) are needed")
      }
      guard !versions.contains(where: { $0.number == n }) else {
        throw .secret("the secret file \(path) holds version \(n) twice")
      }
      versions.append(SecretVersion(number: n, bytes: bytes))
    }
    guard !versions.isEmpty else { throw .secret("the secret file \(path) holds no secret version") }
    return SecretFile(versions: versions)
  }

  /// The file's text with these versions, in the numbered format.
  static func encode(_ versions: [SecretVersion]) -> [UInt8] {
    var text = versionedHeader + "\n"
    text +=
      "# ivkeys server secret: one version per line, '<version> <hex>'. Keep it mode 0600, apart from the vault.\n"
    for v in versions.sorted(by: { $0.number < $1.number }) { text += "\(v.number) \(Crypto.hex(v.bytes))\n" }
    return Array(text.utf8)
  }

  /// What to do about a missing secret file. With a vault, `init` is no way out (it refuses an
  /// existing vault, and a new secret would not open this one): the secret it was made with is.
  static func missingSecretHint(vaultPath: String?) -> String {
    guard let vaultPath else { return "run 'ivkeys init', or point --secret-file or IVKEYS_SECRET_FILE at it" }
    return "point --secret-file or IVKEYS_SECRET_FILE at the secret \(vaultPath) was created with; "
      + "a secret cannot be made again ('ivkeys init' only makes a new vault, at a new --vault path)"
  }

  /// Creates a new secret at `path` with `O_CREAT|O_EXCL` and mode 0600: 32 bytes from the
  /// CSPRNG written as 64 hex digits and a newline. Refuses to overwrite anything.
  static func create(path: String) throws(IVKeysError) -> SecretFile {
    let random = try Crypto.randomBytes(32)
    let text = Array((Crypto.hex(random) + "\n").utf8)
    try FileSystem.createExclusive(
      path, contents: text, what: "the secret file",
      exists: .conflict(
        "a secret file already exists at \(path); refusing to overwrite it",
        hint: "pass --secret-file for a new one, or remove it only if no vault uses it"))
    return SecretFile(bytes: Array(text.dropLast()))
  }
}

/// One version of the server secret, and the keys derived from it, each made when first used.
final class SecretVersion {
  let number: Int
  let bytes: [UInt8]

  init(number: Int, bytes: [UInt8]) {
    self.number = number
    self.bytes = bytes
  }

  /// The version itself as a ready HMAC key, for key digests. The fingerprint and the derived
  /// keys below are HMACs under it too, so one prepared key serves all four.
  lazy var digestKey = HMACKey(bytes)

  /// The fingerprint recorded in the vault: HMAC-SHA256(secret, "ivkeys secret fingerprint v1"),
  /// first 16 bytes in hex. It identifies the secret without revealing it.
  lazy var fingerprint: String =
    Crypto.hex(Crypto.hmacSHA256(key: digestKey, string: "ivkeys secret fingerprint v1").prefix(16))

  /// The key that chains audit entries, derived so the raw secret keys nothing but digests.
  lazy var auditKey = HMACKey(Crypto.hmacSHA256(key: digestKey, string: "ivkeys audit chain v1"))

  /// The key that seals rows (`RowSeal`): its own label, so a seal is never an audit hash.
  lazy var sealKey = HMACKey(Crypto.hmacSHA256(key: digestKey, string: "ivkeys row seal v1"))
}
