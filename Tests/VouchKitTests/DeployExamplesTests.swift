import Foundation
import Testing
import Yams

/// The examples in deploy/ must keep working as the command line evolves: every option they pass to `vouch run`
/// must be one `vouch run` accepts, and the Kubernetes manifest must keep its safety settings.
@Suite struct DeployExamplesTests {
  func options(in text: String) -> Set<String> {
    Set(text.matches(of: /--[a-z][a-z-]*/).map { String($0.output) })
  }

  func runOptions() throws -> Set<String> {
    options(in: try Command.run(Repository.vouchExecutable.path, ["run", "--help"]))
  }

  @Test(arguments: ["deploy/systemd/vouch.service", "deploy/cron/vouch.crontab"])
  func commandLinesUseOnlyExistingOptions(file: String) throws {
    let lines = try Repository.text(file).split(separator: "\n").filter { $0.contains("vouch run ") && !$0.hasPrefix("#") }
    #expect(lines.count == 1, "\(file) should run vouch once")
    let used = options(in: lines.joined())
    let accepted = try runOptions()
    #expect(!used.isEmpty)
    #expect(used.isSubset(of: accepted), "unknown options: \(used.subtracting(accepted))")
  }

  @Test func kubernetesCronJobKeepsItsSafetySettingsAndValidArguments() throws {
    let documents = try Yams.load_all(yaml: try Repository.text("deploy/kubernetes/cronjob.yaml")).compactMap {
      $0 as? [String: Any]
    }
    #expect(documents.compactMap { $0["kind"] as? String } == ["PersistentVolumeClaim", "CronJob"])
    let cronJob = try #require(documents.last)
    let spec = try #require(cronJob["spec"] as? [String: Any])
    #expect(spec["concurrencyPolicy"] as? String == "Forbid")
    let jobSpec = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
    let podSpec = try #require((jobSpec["template"] as? [String: Any])?["spec"] as? [String: Any])
    let container = try #require((podSpec["containers"] as? [[String: Any]])?.first)
    let arguments = try #require(container["args"] as? [String])
    #expect(arguments.first == "run")
    let accepted = try runOptions()
    #expect(options(in: arguments.joined(separator: " ")).isSubset(of: accepted))
    let mounts = try #require(container["volumeMounts"] as? [[String: Any]]).compactMap { $0["mountPath"] as? String }
    // Evidence and reports must be on the persistent volume, or each pod would start a new chain.
    let data = try #require(mounts.first { arguments.contains("\($0)/evidence") })
    #expect(arguments.contains("\(data)/reports"))
  }
}
