/** The machine a report was measured on: figures mean little without it. */
import * as os from "node:os";

/** What BENCHMARKS.md records about the machine and runtime. */
export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical CPUs the OS reports. */
  readonly cores: number;
  readonly memoryGiB: number;
  /** Kernel name, release and version string. */
  readonly os: string;
  readonly node: string;
  /** When the run started, ISO 8601. */
  readonly date: string;
}

/** Collects {@link MachineInfo} now. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.version()})`,
    node: process.version,
    date: new Date().toISOString(),
  };
}
