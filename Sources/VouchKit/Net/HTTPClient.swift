import CCurl
import Crypto
import Foundation
import Synchronization

/// Runs libcurl transfers on one dedicated thread that owns the multi handle and every easy handle.
///
/// libcurl handles must not be shared between threads, so callers only exchange Sendable values with that thread
/// through a lock-protected queue, and `curl_multi_wakeup` interrupts its poll when work or a cancellation arrives.
public final class HTTPClient: Sendable {
  private let queue: TransferQueue

  /// - Parameter maxConnections: transfers run at once; further requests wait in arrival order.
  public init(maxConnections: Int = 64) {
    let queue = TransferQueue()
    self.queue = queue
    let limit = max(1, maxConnections)
    let thread = Thread { TransferLoop(queue: queue, limit: limit).run() }
    thread.name = "vouch-http"
    thread.start()
  }

  deinit {
    shutdown()
  }

  /// Sends one request without following redirects; a non-2xx status is a response, not an error.
  ///
  /// Cancelling the calling task removes the transfer and throws `HTTPError.Kind.cancelled`.
  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    let queue = self.queue
    let id = queue.makeID()
    let result = await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
        queue.submit(TransferJob(id: id, request: request, continuation: continuation))
      }
    } onCancel: {
      queue.cancel(id)
    }
    return try result.get()
  }

  /// Stops the transfer thread and waits for it; transfers still running or queued fail as cancelled.
  public func shutdown() {
    queue.close(HTTPError.Kind.cancelled, reason: "the HTTP client was shut down")
  }
}

/// libcurl's global state, initialised once per process before the first handle exists (HTTP client, TLS prober).
enum CurlGlobal {
  static let status: CURLcode = {
    _ = OpenSSLGlobal.ready
    return vouch_curl_global_init()
  }()
}

/// A multi handle that other threads may only pass to `curl_multi_wakeup`, which libcurl documents as thread-safe.
private struct MultiHandle: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer

  func wakeup() {
    curl_multi_wakeup(pointer)
  }
}

/// One request waiting for its transfer thread, with the continuation that receives the outcome.
struct TransferJob: Sendable {
  let id: UInt64
  let request: HTTPRequest
  let continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>

  func fail(_ kind: HTTPError.Kind, _ message: String) {
    continuation.resume(returning: .failure(HTTPError(kind, url: request.url, message)))
  }
}

/// The only state shared between callers and the transfer thread.
private final class TransferQueue: Sendable {
  struct State {
    var multi: MultiHandle?
    var pending: [TransferJob] = []
    /// Jobs the thread has taken and not yet finished; only these can have a cancellation request.
    var handedOver: Set<UInt64> = []
    var cancelRequests: [UInt64] = []
    var closed: (kind: HTTPError.Kind, reason: String)?
    var nextID: UInt64 = 0
  }

  struct Batch {
    var jobs: [TransferJob]
    var cancellations: [UInt64]
    var closing: Bool
  }

  private let state = Mutex(State())
  private let exited = DispatchSemaphore(value: 0)

  func makeID() -> UInt64 {
    state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
  }

  func submit(_ job: TransferJob) {
    let rejection: (HTTPError.Kind, String)? = state.withLock { state in
      if let closed = state.closed { return (closed.kind, closed.reason) }
      // Checked under the lock: a cancellation handler that ran earlier found nothing to cancel.
      if Task.isCancelled { return (.cancelled, "the request was cancelled") }
      state.pending.append(job)
      state.multi?.wakeup()
      return nil
    }
    if let (kind, reason) = rejection { job.fail(kind, reason) }
  }

  func cancel(_ id: UInt64) {
    let queued: TransferJob? = state.withLock { state in
      if let index = state.pending.firstIndex(where: { $0.id == id }) { return state.pending.remove(at: index) }
      if state.handedOver.contains(id) {
        state.cancelRequests.append(id)
        state.multi?.wakeup()
      }
      return nil
    }
    queued?.fail(.cancelled, "the request was cancelled")
  }

  /// Called by the transfer thread once its multi handle exists.
  func publish(_ multi: MultiHandle) {
    state.withLock { $0.multi = multi }
  }

  func take() -> Batch {
    state.withLock { state in
      let jobs = state.pending
      state.pending.removeAll(keepingCapacity: true)
      for job in jobs { state.handedOver.insert(job.id) }
      let cancellations = state.cancelRequests
      state.cancelRequests.removeAll()
      return Batch(jobs: jobs, cancellations: cancellations, closing: state.closed != nil)
    }
  }

  func finished(_ ids: [UInt64]) {
    guard !ids.isEmpty else { return }
    state.withLock { state in
      for id in ids { state.handedOver.remove(id) }
    }
  }

  /// Refuses new work and wakes the thread; waits for it to exit unless called by the thread itself.
  func close(_ kind: HTTPError.Kind, reason: String, fromTransferThread: Bool = false) {
    let first = state.withLock { state in
      guard state.closed == nil else { return false }
      state.closed = (kind, reason)
      state.multi?.wakeup()
      return true
    }
    if first, !fromTransferThread { exited.wait() }
  }

  /// The thread's last act: forget the multi handle before it is freed, and hand back jobs nobody will run.
  func retire() -> [TransferJob] {
    let leftover = state.withLock { state in
      state.multi = nil
      defer { state.pending.removeAll() }
      return state.pending
    }
    exited.signal()
    return leftover
  }
}

/// The transfer thread's own state: the multi handle, running transfers and jobs waiting for a free slot.
private final class TransferLoop {
  let queue: TransferQueue
  let limit: Int
  private var waiting: [TransferJob?] = []
  private var waitingHead = 0
  private var active: [UnsafeMutableRawPointer: Transfer] = [:]
  private var activeByID: [UInt64: UnsafeMutableRawPointer] = [:]

  init(queue: TransferQueue, limit: Int) {
    self.queue = queue
    self.limit = limit
  }

  func run() {
    guard CurlGlobal.status == CURLE_OK, let multi = curl_multi_init() else {
      let reason = "libcurl could not be initialised (\(String(cString: curl_easy_strerror(CurlGlobal.status))))"
      queue.close(.other, reason: reason, fromTransferThread: true)
      for job in queue.retire() { job.fail(.other, reason) }
      return
    }
    vouch_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, limit)
    queue.publish(MultiHandle(pointer: multi))
    while step(multi) {}
    for transfer in active.values {
      curl_multi_remove_handle(multi, transfer.easy)
      transfer.job.fail(.cancelled, "the HTTP client was shut down")
    }
    active.removeAll()
    for job in waiting[waitingHead...].compactMap({ $0 }) + queue.retire() {
      job.fail(.cancelled, "the HTTP client was shut down")
    }
    curl_multi_cleanup(multi)
  }

  /// One round: take new work, start what fits, drive libcurl, finish completed transfers, then wait.
  private func step(_ multi: UnsafeMutableRawPointer) -> Bool {
    let batch = queue.take()
    waiting.append(contentsOf: batch.jobs.map { Optional($0) })
    if batch.closing { return false }
    for id in batch.cancellations { cancel(id, in: multi) }
    startWaiting(in: multi)
    var running: Int32 = 0
    curl_multi_perform(multi, &running)
    collectCompleted(in: multi)
    let canStartMore = waitingHead < waiting.count && active.count < limit
    curl_multi_poll(multi, nil, 0, canStartMore ? 0 : 1000, nil)
    return true
  }

  private func startWaiting(in multi: UnsafeMutableRawPointer) {
    while active.count < limit, waitingHead < waiting.count {
      let job = waiting[waitingHead]
      waitingHead += 1
      guard let job else { continue }
      switch Transfer.make(job) {
      case .success(let transfer):
        curl_multi_add_handle(multi, transfer.easy)
        active[transfer.easy] = transfer
        activeByID[job.id] = transfer.easy
      case .failure(let error):
        queue.finished([job.id])
        job.continuation.resume(returning: .failure(error))
      }
    }
    if waitingHead == waiting.count {
      waiting.removeAll(keepingCapacity: true)
      waitingHead = 0
    }
  }

  private func cancel(_ id: UInt64, in multi: UnsafeMutableRawPointer) {
    if let easy = activeByID.removeValue(forKey: id), let transfer = active.removeValue(forKey: easy) {
      curl_multi_remove_handle(multi, easy)
      transfer.job.fail(.cancelled, "the request was cancelled")
    } else if let index = waiting[waitingHead...].firstIndex(where: { $0?.id == id }), let job = waiting[index] {
      waiting[index] = nil
      job.fail(.cancelled, "the request was cancelled")
    } else {
      return
    }
    queue.finished([id])
  }

  private func collectCompleted(in multi: UnsafeMutableRawPointer) {
    var finishedIDs: [UInt64] = []
    var remaining: Int32 = 0
    while let message = curl_multi_info_read(multi, &remaining) {
      guard vouch_curl_msg_kind(message) == CURLMSG_DONE, let easy = vouch_curl_msg_easy(message) else { continue }
      let code = vouch_curl_msg_result(message)
      curl_multi_remove_handle(multi, easy)
      guard let transfer = active.removeValue(forKey: easy) else { continue }
      activeByID.removeValue(forKey: transfer.job.id)
      finishedIDs.append(transfer.job.id)
      transfer.job.continuation.resume(returning: transfer.complete(code))
    }
    queue.finished(finishedIDs)
  }
}
