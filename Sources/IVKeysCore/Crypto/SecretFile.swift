import Glibc

/// The server secret: the HMAC key for key digests and, through a derived key, the audit chain.
/// It lives in its own file, mode 0600, and never enters the vault.
public struct SecretFile {
  /// The smallest secret accepted, in bytes.
  public static let minimumLength = 32

  let bytes: [UInt8]
  /// The secret as a ready HMAC key, for key digests.
  let digestKey: HMACKey

  init(bytes: [UInt8]) {
    self.bytes = bytes
    self.digestKey = HMACKey(bytes)
  }

  /// The fingerprint recorded in the vault: HMAC-SHA256(secret, "ivkeys secret fingerprint v1"),
  /// first 16 bytes in hex. It identifies the secret without revealing it.
  public var fingerprint: String {
    Crypto.hex(Crypto.hmacSHA256(key: bytes, string: "ivkeys secret fingerprint v1").prefix(16))
  }

  /// The key that chains audit entries, derived so the raw secret keys nothing but digests.
  var auditKey: HMACKey { HMACKey(Crypto.hmacSHA256(key: bytes, string: "ivkeys audit chain v1")) }

  /// Reads and checks the secret at `path`: a regular file that neither group nor others can
  /// read (OpenSSH refuses such private keys too), holding at least 32 bytes. A trailing newline
  /// is not part of the secret.
  /// `vaultPath` names the vault the secret is for, when there is one: a missing secret then
  /// cannot be made anew, and the hint says so.
  public static func load(path: String, forVault vaultPath: String? = nil) throws(IVKeysError) -> SecretFile {
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
    if data.last == 0x0a { data.removeLast() }
    if data.last == 0x0d { data.removeLast() }
    guard data.count >= minimumLength else {
      throw .secret("the secret file \(path) holds \(data.count) bytes; at least \(minimumLength) are needed")
    }
    return SecretFile(bytes: data)
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
