/// The answer `verify` gives, as SPEC.md's decision table has it.
public enum DecisionCode: String, Sendable, CaseIterable {
  case ok
  case malformedKey = "malformed_key"
  case unknownKey = "unknown_key"
  case revoked, suspended, expired
  case wrongEnvironment = "wrong_environment"
  case wrongCompany = "wrong_company"
  case insufficientScope = "insufficient_scope"
  case ipNotAllowed = "ip_not_allowed"
  case rateLimited = "rate_limited"
  /// A usage-limited key that has spent its request budget (until a refill, if it has one).
  case usageExhausted = "usage_exhausted"
  /// A `verify --batch` line that is not a request at all.
  case badRequest = "bad_request"

  /// The HTTP status InstaView's API answers with.
  public var httpStatus: Int {
    switch self {
    case .ok: return 200
    case .malformedKey, .unknownKey, .revoked, .suspended, .expired, .wrongEnvironment: return 401
    case .wrongCompany, .insufficientScope, .ipNotAllowed: return 403
    case .rateLimited, .usageExhausted: return 429
    case .badRequest: return 400
    }
  }

  /// The exit status of a single `verify`: 0, 10 (401), 11 (403), 12 (429); 2 for a bad request.
  public var exitCode: Int32 {
    switch httpStatus {
    case 200: return 0
    case 401: return 10
    case 403: return 11
    case 429: return 12
    default: return 2
    }
  }
}

/// One request to decide on.
public struct VerifyRequest: Sendable {
  /// What was presented: a bare key or an `Authorization: Bearer <key>` line. Never stored.
  public var presented: String
  public var company: String
  public var scope: String
  public var ip: IPAddress?
  public var endpoint: String?
  /// The environment the caller serves: a key of the other environment is refused
  /// (`wrong_environment`). Always given: a gateway that does not say which environment it
  /// serves would let a test key into production.
  public var env: KeyEnvironment

  public init(
    presented: String, company: String, scope: String, ip: IPAddress? = nil, endpoint: String? = nil,
    env: KeyEnvironment
  ) {
    self.presented = presented
    self.company = company
    self.scope = scope
    self.ip = ip
    self.endpoint = endpoint
    self.env = env
  }
}

/// A decision: allowed or the reason it is not.
public struct Decision: Sendable, Equatable {
  public var code: DecisionCode
  public var message: String
  public var keyID: String?
  public var company: String?
  public var requiredScope: String?
  /// Whole seconds (at least 1) until a request may pass again: for `rate_limited`, and for
  /// `usage_exhausted` when the key's budget refills.
  public var retryAfter: Int64?
  /// The key's rate limit as it stands after this decision, when the key is known and has one.
  public var rateLimit: RateLog.State?
  /// Requests left in a usage-limited key's budget after this decision.
  public var requestsRemaining: Int64?

  public var allowed: Bool { code == .ok }

  /// A decision for a line that is not a request.
  public static func badRequest(_ message: String) -> Decision {
    Decision(code: .badRequest, message: message)
  }
}
