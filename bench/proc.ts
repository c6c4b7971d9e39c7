import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The fields of /proc/<pid>/stat after the parenthesised command name (field 3, the state, first). */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds a live process has used (/proc/<pid>/stat, 100 ticks/s on Linux). */
export function cpuSecondsOf(pid: number): number {
  // utime and stime are fields 14 and 15.
  const rest = statFields(pid);
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/**
 * CPU seconds of a process and its children: its own, those of its live children, and those of
 * the children it has reaped (cutime, cstime). For a server that forks a process per connection
 * (PostgreSQL's postmaster).
 */
export function treeCpuSecondsOf(pid: number): number {
  const rest = statFields(pid);
  let seconds = cpuSecondsOf(pid) + (Number(rest[13]) + Number(rest[14])) / 100;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // ppid is field 4.
      if (Number(statFields(entry)[1]) === pid) seconds += cpuSecondsOf(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seconds;
}

/**
 * CPU seconds the whole machine has spent busy, all cores together: /proc/stat's first line, user,
 * nice, system, irq and softirq (not idle, iowait or steal).
 */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq!) / 100;
}

/** CPU seconds this process has used (user + system). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
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
