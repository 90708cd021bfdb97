#ifndef IVKEYS_CLINUX_SHIM_H
#define IVKEYS_CLINUX_SHIM_H
// Linux calls Swift cannot make directly: prctl(2) takes variable arguments.
#include <sys/prctl.h>
#include <sys/resource.h>

// No core dump of this process, ever, in two system calls: a core of `create` holds the keys it
// made, one of `verify` the key it checked, any of them the server secret.
// - RLIMIT_CORE 0, soft and hard, so nothing the process runs can raise it again. setrlimit(2):
//   "RLIMIT_CORE: This is the maximum size of a core file ... When 0 no core dump files are
//   created." The limit does not stop a core_pattern that pipes the dump to a program
//   (systemd-coredump, apport): core(5) says the limit is not enforced for a pipe.
// - Not dumpable. prctl(2), PR_SET_DUMPABLE: the attribute "determines whether core dumps are
//   produced for the calling process upon delivery of a signal whose default behavior is to produce
//   a core dump", and "Processes that are not dumpable can not be attached via ptrace(2)
//   PTRACE_ATTACH": another process of the same user can neither attach nor read /proc/PID/mem.
// Returns 0 when both took effect, -1 otherwise (errno from the call that failed).
static inline int ivkeys_disable_core_dumps(void) {
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
  return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}
#endif
