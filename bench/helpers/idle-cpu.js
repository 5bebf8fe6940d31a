// CPU used by this whole process (every thread) while nothing is asked of it,
// as a percentage of one core.

export async function idleCpuPercent(settleMs, measureMs) {
  await new Promise((r) => setTimeout(r, settleMs));
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, measureMs));
  const used = process.cpuUsage(before);
  const wallUs = (performance.now() - t0) * 1000;
  return ((used.user + used.system) / wallUs) * 100;
}
