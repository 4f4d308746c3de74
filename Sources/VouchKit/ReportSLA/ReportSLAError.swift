import Foundation

/// Something wrong with the input as a whole (unreadable, wrong shape); the control errors with this message.
public struct ReportSLAError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
