/// Process exit codes, chosen so cron and CI can tell "controls failed" from "Vouch could not do its job".
public enum VouchExitCode: Int32, Sendable, CaseIterable {
  /// Every control that ran passed (skipped ones do not count against it); `verify` found nothing wrong.
  case success = 0
  /// At least one control failed (and none errored); `verify` found an integrity problem.
  case failures = 1
  /// At least one control could not collect its evidence.
  case errors = 2
  /// Invalid control definitions or command-line usage: nothing ran.
  case invalidInput = 3
  /// The evidence or reports folder could not be used (locked by another run, unwritable): nothing was sealed.
  case environment = 4

  /// The code for a finished run.
  public static func forRun(_ counts: StatusCounts) -> VouchExitCode {
    if counts.error > 0 { return .errors }
    if counts.fail > 0 { return .failures }
    return .success
  }
}
