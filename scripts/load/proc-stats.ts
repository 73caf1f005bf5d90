// CPU time and memory of a process (the gateway child, or this generator) and of the whole
// machine, read from /proc so that the gateway's figures come from the kernel, not from the
// gateway reporting on itself.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  atMs: number;
  /** utime + stime, cumulative. */
  cpuMs: number;
  rssBytes: number;
}

export interface MachineSample {
  /** Cumulative busy and total jiffies over all cores, from the first line of /proc/stat. */
  busyTicks: number;
  totalTicks: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ); 100 on every usual Linux. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time and RSS now; undefined once it has exited (or on a system without /proc). */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the line are utime and stime: 11 and 12 counted from field 3, the state.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    return { atMs: performance.now(), cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssBytes: rssKiB * 1024 };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in percent of one core (200% is both cores of a 2-core machine). */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const spanMs = to.atMs - from.atMs;
  return spanMs > 0 ? (100 * (to.cpuMs - from.cpuMs)) / spanMs : 0;
}

export function sampleMachine(): MachineSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busyTicks: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), totalTicks: total };
  } catch {
    return undefined;
  }
}

/** The machine's busy time between two samples, in percent of one core, like cpuPercent. */
export function machinePercent(from: MachineSample, to: MachineSample, cores: number): number {
  const total = to.totalTicks - from.totalTicks;
  return total > 0 ? (100 * cores * (to.busyTicks - from.busyTicks)) / total : 0;
}

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** "Max open files" of a process (ulimit -n); Infinity for unlimited, undefined if unreadable. */
export function openFileLimit(pid: number | 'self' = 'self'): OpenFileLimit | undefined {
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!line) return undefined;
    const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
    return { soft: value(line[1]!), hard: value(line[2]!) };
  } catch {
    return undefined;
  }
}
