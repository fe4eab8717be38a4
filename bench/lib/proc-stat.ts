/**
 * CPU and memory of another process, read from Linux's /proc (proc(5)): how the orchestrator
 * measures a server's CPU over exactly the client's run, whatever the server is (raw, grpc or
 * mqwire) and whether or not it reports anything itself. Elsewhere these return undefined and
 * the server's own stop report is used instead.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = ((): number => {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100; // The Linux default (USER_HZ).
  }
})();

/** User + system CPU time of process `pid` so far, microseconds (tick resolution: 10 ms). */
export function readCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses: count fields from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // proc(5): utime and stime are fields 14 and 15, i.e. 11 and 12 after "state" (field 3).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of process `pid`, bytes (VmRSS of /proc/<pid>/status). */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}
