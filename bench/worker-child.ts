/**
 * Runs bench/worker-process.ts, compiled (bench/worker-build.ts), as a child
 * process over a bench environment's SQLite files, so the worker's memory is measured alone: its peak resident
 * set from the kernel (/proc/<pid>/status, VmHWM) and the largest figures of
 * process.memoryUsage() it sampled itself.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import type { Ctx } from './context';
import type { BenchEnv } from './fixtures';
import { compiledWorkerProcess } from './worker-build';

/** How the measured worker process is started: its Node flags and the environment it adds. */
export interface ProcessSettings {
  nodeFlags: string[];
  env: Record<string, string>;
}

/**
 * The settings docs/ARCHITECTURE.md (Memory) recommends for a worker, measured there: a heap
 * limit, since under the default one (a quarter of the machine's memory up to ~4 GB) V8 lets the
 * main thread's heap grow to several times its live set; and two glibc malloc arenas, since
 * SQLite's allocations on libuv's threads and the SDK core's fragment one arena per thread.
 */
export const WORKER_PROCESS_SETTINGS: ProcessSettings = { nodeFlags: ['--max-old-space-size=256'], env: { MALLOC_ARENA_MAX: '2' } };
/** Node's and glibc's defaults, to measure what the settings change. */
export const DEFAULT_PROCESS_SETTINGS: ProcessSettings = { nodeFlags: [], env: {} };

/** The driver's environment without what would change how the worker's memory behaves. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.MALLOC_ARENA_MAX;
  return env;
}

export interface WorkerMemory {
  /** VmHWM: the most resident memory the process ever had, in MB. */
  peakRssMb: number;
  /** VmRSS once the worker polls, before any work: what the worker costs before a record is read. */
  idleRssMb: number;
  /** Largest sampled process.memoryUsage() figures (main thread's V8 heap, external memory), in MB. */
  sampledPeaksMb: Record<string, number>;
}

export interface WorkerChild {
  pid: number;
  /** Rejects when the worker dies: a benchmark must fail, not hang. */
  exited: Promise<never>;
  /** Asks the worker for heap snapshots (needs heapSnapshotDir). */
  snapshot(): void;
}

const status = (pid: number, field: 'VmHWM' | 'VmRSS'): number =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const peakRssMb = (pid: number): number => status(pid, 'VmHWM');
const rssMb = (pid: number): number => status(pid, 'VmRSS');

const mb = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;

export async function withWorkerChild<T>(
  ctx: Ctx,
  benchEnv: BenchEnv,
  taskQueue: string,
  options: { workerOptions?: Partial<WorkerOptions>; heapSnapshotDir?: string; settings?: ProcessSettings },
  fn: (child: WorkerChild) => Promise<T>,
): Promise<{ result: T; memory: WorkerMemory; snapshots: string[] }> {
  const dir = benchEnv.dir as string;
  const bundlePath = path.join(dir, 'bundle.js');
  writeFileSync(bundlePath, ctx.bundleCode);
  const settings = options.settings ?? WORKER_PROCESS_SETTINGS;
  const child = spawn(process.execPath, [...settings.nodeFlags, compiledWorkerProcess()], {
    env: {
      ...inheritedEnv(),
      ...settings.env,
      BENCH_DIR: dir,
      TASK_QUEUE: taskQueue,
      TEMPORAL_ADDRESS: ctx.env.address,
      BUNDLE_PATH: bundlePath,
      WORKER_OPTIONS: JSON.stringify(options.workerOptions ?? {}),
      ...(options.heapSnapshotDir ? { HEAP_SNAPSHOT_DIR: options.heapSnapshotDir } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let onExit: ((code: number | null) => void) | null = null;
  const exited = new Promise<never>((_, reject) => {
    onExit = (code) => reject(new Error(`bench worker exited with ${code}`));
  });
  exited.catch(() => undefined);
  child.on('exit', (code) => onExit?.(code));
  const ready = new Promise<void>((resolve) =>
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    }),
  );
  await Promise.race([ready, exited]);
  const idleRssMb = rssMb(child.pid as number);
  let result: T;
  let peak = 0;
  try {
    result = await fn({ pid: child.pid as number, exited, snapshot: () => child.kill('SIGUSR2') });
    peak = peakRssMb(child.pid as number);
  } finally {
    onExit = null;
    if (child.exitCode === null) {
      const stopped = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await stopped;
      clearTimeout(force);
    }
  }
  const line = /memory (\{.*\})/.exec(output)?.[1];
  const sampled = line ? (JSON.parse(line) as Record<string, number>) : {};
  const snapshots = [...output.matchAll(/snapshots (\[.*\])/g)].flatMap((m) => JSON.parse(m[1]) as string[]);
  return {
    result,
    memory: {
      peakRssMb: Math.round(peak),
      idleRssMb: Math.round(idleRssMb),
      sampledPeaksMb: Object.fromEntries(Object.entries(sampled).map(([k, v]) => [k, mb(v)])),
    },
    snapshots,
  };
}
