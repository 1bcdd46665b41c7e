/**
 * CPU time used by a process group (Linux /proc), for "CPU per request": unlike req/s,
 * it barely moves when other work on the machine steals time from the target, because a
 * descheduled process accrues no CPU. The gateway's primary and its workers share one
 * group (the bench starts the primary detached), so the sum covers the whole node.
 * Returns null where /proc is unavailable; the report then leaves the column empty.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond = null;

function clockTicks() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU milliseconds of every live process in group `pgid`, or null. */
export function groupCpuMs(pgid) {
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name, which may itself contain spaces or parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue; // f[2] = pgrp
    ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return (ticks * 1000) / clockTicks();
}
