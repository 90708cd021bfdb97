import Glibc
import IVKeysCLI

exit(CLI.main(Array(CommandLine.arguments.dropFirst()), environment: CLI.processEnvironment()))
