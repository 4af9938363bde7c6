import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set in MiB. On Linux it is the address space's own high-water
 * mark (VmHWM), not `process.resourceUsage().maxRSS`: getrusage keeps the larger of that and the
 * peak of the image before `exec`, which for a spawned child is a fork of its parent. A parent
 * holding 500 MB of Buffers (fauxqs's stored objects, say) made an idle child report 504 MB.
 */
export const peakRssMB = (): number => {
  try {
    const hwm = /^VmHWM:\s*(\d+)\s*kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm !== undefined) return Math.round((Number(hwm) / 1024) * 10) / 10;
  } catch {
    // Not Linux: the portable figure, with the caveat above.
  }
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
};
