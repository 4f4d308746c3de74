/// Process exit codes, chosen so cron and CI can tell "controls failed" from "Vouch could not do its job".
public enum VouchExitCode: Int32, Sendable, CaseIterable {
  /// Every control that ran passed (skipped ones do not count against it); `verify` found nothing wrong.
  case success = 0
  /// At least one control failed or is stale (or another `--fail-on` status occurred) and none errored; `verify`
  /// found an integrity problem.
  case failures = 1
  /// At least one control could not collect its evidence.
  case errors = 2
  /// Invalid control definitions or command-line usage: nothing ran.
  case invalidInput = 3
  /// The evidence or reports folder could not be used (locked by another run, unwritable): nothing was sealed.
  case environment = 4

  /// Statuses that make a run exit non-zero unless `--fail-on` says otherwise: a stale control is as unproven as a
  /// failing one; waived, skipped and not-applicable controls are decisions, not failures.
  public static let defaultFailOn: Set<ControlStatus> = [.fail, .error, .stale]

  /// The code for a finished run: 2 when an error counts, otherwise 1 when any other status in `failOn` occurred.
  public static func forRun(_ counts: StatusCounts, failOn: Set<ControlStatus> = defaultFailOn) -> VouchExitCode {
    if failOn.contains(.error) && counts.error > 0 { return .errors }
    if failOn.subtracting([.error]).contains(where: { counts[$0] > 0 }) { return .failures }
    return .success
  }
}
