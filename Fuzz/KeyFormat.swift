// libFuzzer target: the key parser (shape, base62, checksum, secret range).
import IVKeysCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  if case .success(let key) = APIKey.parse(bytes: bytes) {
    // A key that parses is 90 bytes, and parsing its own text gives the same id.
    precondition(key.string.utf8.count == APIKey.length)
    guard case .success(let again) = APIKey.parse(key.string), again.id == key.id else {
      preconditionFailure("unstable parse")
    }
  }
  _ = Text.redactKeys(String(decoding: bytes, as: UTF8.self))
  _ = PresentedKey.extract(String(decoding: bytes, as: UTF8.self))
  return 0
}
