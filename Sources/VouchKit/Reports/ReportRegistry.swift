/// Every report format Vouch writes for a run.
public enum ReportRegistry {
  /// Adding a format is one new `ReportFormat` file and one entry here.
  public static let builtIn: [any ReportFormat] = [HTMLReport(), XMLReport(), JUnitReport(), OSCALReport()]
}
