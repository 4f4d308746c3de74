import Logging
import VouchKit

/// Log lines go to standard error as logfmt; set once, before anything logs.
let loggingBootstrap: Void = LoggingSystem.bootstrap { LogfmtLogHandler(label: $0) }
