import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryMB: number;
  platform: string;
  /** 1-minute load average when the benchmark started: other work on the machine skews timings. */
  loadAverage: number;
}

/** Where a figure was measured: benchmark results are only comparable on the same machine. */
export const machineInfo = (): MachineInfo => ({
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  memoryMB: Math.round(totalmem() / 2 ** 20),
  platform: `${process.platform}-${process.arch}`,
  loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
});
