// libFuzzer target: durations and dates (YYYY-MM-DD, RFC 3339).
import IVKeysCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  if let seconds = try? Time.parseDuration(text) { precondition(seconds >= 0) }
  if let t = try? Time.parseDate(text) {
    // Any accepted date formats and parses back to itself.
    guard let again = try? Time.parseDate(Time.rfc3339(t)), again == t else { preconditionFailure("round trip: \(t)") }
  }
  _ = try? RateLimit.parse(text)
  _ = try? JSON.parse(text)
  return 0
}
