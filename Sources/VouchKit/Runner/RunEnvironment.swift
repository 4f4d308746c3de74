import Foundation

/// The source of "now"; injected so reports and tests are deterministic.
public protocol WallClock: Sendable {
  func now() -> Date
}

/// The real clock.
public struct SystemClock: WallClock {
  public init() {}
  public func now() -> Date { Date() }
}

/// A clock that always answers the same instant.
public struct FixedClock: WallClock {
  public let instant: Date
  public init(_ instant: Date) { self.instant = instant }
  public func now() -> Date { instant }
}

/// What a run takes from the outside world, gathered in one place so tests can replace it.
public struct RunEnvironment: Sendable {
  public var clock: any WallClock
  /// Environment variables available to `${env.NAME}` references.
  public var variables: [String: String]
  public var hostname: String
  public var toolVersion: String
  /// Makes the short run id that ends each bundle name.
  public var makeRunID: @Sendable () -> String

  public init(
    clock: any WallClock, variables: [String: String], hostname: String, toolVersion: String = VouchVersion.current,
    makeRunID: @escaping @Sendable () -> String = RunEnvironment.randomRunID
  ) {
    self.clock = clock
    self.variables = variables
    self.hostname = hostname
    self.toolVersion = toolVersion
    self.makeRunID = makeRunID
  }

  /// The environment of this process.
  public static func live() -> RunEnvironment {
    RunEnvironment(
      clock: SystemClock(), variables: ProcessInfo.processInfo.environment,
      hostname: ProcessInfo.processInfo.hostName)
  }

  /// Eight lowercase hex digits.
  @Sendable public static func randomRunID() -> String {
    String(format: "%08x", UInt32.random(in: .min ... .max))
  }
}

/// The tool's version, recorded in every bundle.
public enum VouchVersion {
  public static let current = "0.1.0"
}
