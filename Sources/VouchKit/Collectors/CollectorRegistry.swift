/// The collectors Vouch knows. Adding one = one new file + one line here.
public enum CollectorRegistry {
  public static let builtIn: [any Collector.Type] = [
    HTTPCollector.self,
    FileCollector.self,
    ReportSLACollector.self,
    SecurityTxtCollector.self,
    TLSCollector.self,
  ]

  /// Every registered kind, in registry order.
  public static var kinds: [String] { builtIn.map { $0.kind } }

  /// The collector for a `collector.kind`, if any.
  public static func collector(kind: String, in list: [any Collector.Type] = builtIn) -> (any Collector.Type)? {
    list.first { $0.kind == kind }
  }
}
