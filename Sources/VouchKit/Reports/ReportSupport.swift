import Mustache
import Foundation

extension FactValue {
  /// The value's kind as reports name it; also the XML `type` attribute.
  var typeName: String {
    switch self {
    case .string: return "string"
    case .integer: return "integer"
    case .number: return "number"
    case .boolean: return "boolean"
    case .list: return "list"
    case .map: return "map"
    case .null: return "null"
    }
  }
}

/// Building URL references for report links.
enum URLReference {
  /// Characters left as they are in a path segment; everything else is percent-encoded, including `:` so that a
  /// hostile path can never turn into a scheme such as `javascript:`.
  private static let segmentCharacters = CharacterSet(
    charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

  static func encodeSegment(_ segment: String) -> String {
    segment.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? ""
  }

  /// A bundle-relative artifact path as a relative URL, or `nil` when it could point outside the bundle
  /// (absolute, empty or `..` segments), in which case reports show it without a link.
  static func bundleRelative(_ path: String) -> String? {
    let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard !path.isEmpty, !path.hasPrefix("/"),
      segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
    else { return nil }
    return segments.map(encodeSegment).joined(separator: "/")
  }

  /// The relative reference from folder `from` to folder `to`, ending in `/`.
  ///
  /// Computed lexically on standardized absolute paths, as browsers resolve relative URLs lexically too; symbolic
  /// links are then followed by the file system when the resolved path is opened.
  static func relativeFolder(from: URL, to: URL) -> String {
    let source = from.standardizedFileURL.pathComponents.filter { $0 != "/" }
    let target = to.standardizedFileURL.pathComponents.filter { $0 != "/" }
    var common = 0
    while common < source.count, common < target.count, source[common] == target[common] { common += 1 }
    let up = Array(repeating: "..", count: source.count - common)
    let down = target[common...].map(encodeSegment)
    let parts = up + down
    return parts.isEmpty ? "./" : parts.joined(separator: "/") + "/"
  }
}

/// A view model Mustache reads through a key-path table, in constant time per name.
protocol MustacheView: MustacheParent {
  static var fields: [String: PartialKeyPath<Self> & Sendable] { get }
}

extension MustacheView {
  func child(named name: String) -> Any? {
    guard let path = Self.fields[name] else { return nil }
    let value = self[keyPath: path]
    // A nil optional must read as absent, so Mustache skips the section (or climbs to an enclosing object).
    if let optional = value as? any OptionalValue { return optional.wrappedValue }
    return value
  }
}

/// Lets `child(named:)` see through optionals without reflection.
private protocol OptionalValue {
  var wrappedValue: Any? { get }
}

extension Optional: OptionalValue {
  fileprivate var wrappedValue: Any? { map { $0 as Any } }
}
