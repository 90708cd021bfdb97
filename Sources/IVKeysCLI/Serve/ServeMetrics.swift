import Glibc
import IVKeysCore

/// What `GET /metrics` reports, in Prometheus' text format: decisions by code (503s as
/// `unavailable`) and how long answering took, as a histogram. Fixed size whatever the traffic:
/// one counter per code and one per bucket.
final class ServeMetrics: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var counts: [String: Int64] = [:]
  /// Upper bounds in seconds.
  static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
  private var buckets = [Int64](repeating: 0, count: bounds.count)
  private var observed: Int64 = 0
  private var sum: Double = 0
  private var inFlight: Int64 = 0

  init() {
    pthread_mutex_init(&mutex, nil)
    for code in DecisionCode.allCases { counts[code.rawValue] = 0 }
    counts["unavailable"] = 0
  }

  /// A request started (+1) or was answered (-1).
  func track(_ delta: Int64) {
    pthread_mutex_lock(&mutex)
    inFlight += delta
    pthread_mutex_unlock(&mutex)
  }

  func record(_ code: String, seconds: Double) {
    pthread_mutex_lock(&mutex)
    counts[code, default: 0] += 1
    if let i = Self.bounds.firstIndex(where: { seconds <= $0 }) { buckets[i] += 1 }
    observed += 1
    sum += seconds
    pthread_mutex_unlock(&mutex)
  }

  var text: String {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    var out = "# HELP ivkeys_decisions_total Decisions answered, by code (unavailable: 503, failing closed).\n"
    out += "# TYPE ivkeys_decisions_total counter\n"
    for code in counts.keys.sorted() { out += "ivkeys_decisions_total{code=\"\(code)\"} \(counts[code] ?? 0)\n" }
    out += "# HELP ivkeys_requests_in_flight Verify requests received and not yet answered.\n"
    out += "# TYPE ivkeys_requests_in_flight gauge\n"
    out += "ivkeys_requests_in_flight \(inFlight)\n"
    out += "# HELP ivkeys_decision_duration_seconds Time from a request's headers to its answer.\n"
    out += "# TYPE ivkeys_decision_duration_seconds histogram\n"
    var cumulative: Int64 = 0
    for (bound, n) in zip(Self.bounds, buckets) {
      cumulative += n
      out += "ivkeys_decision_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
    }
    out += "ivkeys_decision_duration_seconds_bucket{le=\"+Inf\"} \(observed)\n"
    out += "ivkeys_decision_duration_seconds_sum \(sum)\n"
    out += "ivkeys_decision_duration_seconds_count \(observed)\n"
    return out
  }
}
