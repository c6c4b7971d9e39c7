import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { PROMETHEUS_BIN } from '../test/support/procs.js';

/** Resident memory of a process, from /proc/<pid>/status. */
export interface Memory {
  /** VmRSS: resident now, kB. */
  rssKb: number;
  /** VmHWM: peak resident so far, kB. */
  peakKb: number;
  /**
   * RssAnon: the anonymous part of VmRSS, kB: heaps and buffers, what a container's memory limit
   * cannot reclaim. The rest is mostly the node binary's own pages, which the kernel drops and
   * reads again under the limit.
   */
  anonKb: number;
}

/** Reads VmRSS, VmHWM and RssAnon of a live process. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]);
  };
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM'), anonKb: kb('RssAnon') };
}

/**
 * Starts a new peak: writing 5 to /proc/<pid>/clear_refs resets VmHWM to the current RSS (Linux
 * 4.0+, same user), so a later VmHWM is the peak since now. Throws where the kernel refuses.
 */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** User + system CPU seconds a live process has used (/proc/<pid>/stat, 100 ticks/s on Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/** One line per fact about the machine and the tools, for the report header. */
export function machineFacts(): string[] {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const prometheus = execFileSync(PROMETHEUS_BIN, ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
  return [
    `CPU: ${cpu}, ${availableParallelism()} cores (nproc)`,
    `Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `Node.js: ${process.version}`,
    `Prometheus: ${prometheus.trim()}`,
  ];
}
