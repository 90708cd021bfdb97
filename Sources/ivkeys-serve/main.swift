import Glibc
import IVKeysCLI
import IVKeysServe

// `ivkeys` with `serve` able to run: the same command line, which `ivkeys serve` executes.
ServeCommand.server = HTTPServer.run
exit(CLI.main(Array(CommandLine.arguments.dropFirst()), environment: CLI.processEnvironment()))
