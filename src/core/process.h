/*
 * process: what muster asks the kernel about a process: its start time, so a
 * claim's owner "host:pid:start" names one process even when pids are reused.
 * Linux only (/proc).
 */
#ifndef MUSTER_CORE_PROCESS_H
#define MUSTER_CORE_PROCESS_H

/* The start time of process pid (0: this process) in clock ticks since boot
 * (/proc/PID/stat field 22). Returns 0 and sets *ticks; -1 when the process
 * does not exist; -2 when its stat line could not be read. */
int process_start_ticks(long pid, unsigned long long *ticks);

#endif
