// Preloaded into the CLI children of bench/transition.mjs (`node --import`): writes the process's
// CPU time (user + system, microseconds) to the file named by VAPLANE_BENCH_CPU_FILE as it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.VAPLANE_BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    writeFileSync(file, String(user + system));
  });
}
