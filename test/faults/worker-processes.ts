/**
 * Worker processes for the fault suite (test/helpers/worker-process.ts is the
 * child): start one, keep a standby that has paid its start-up already, kill or
 * stop one and wait until it is really gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface WorkerEnv {
  STORE_URL: string;
  LOCAL_URL: string;
  INTEGRATION_URL: string;
  TASK_QUEUE: string;
  TEMPORAL_ADDRESS: string;
  BUNDLE_PATH: string;
  DELAY_MS?: string;
  FAIL_KEYS?: string;
  WORKER_IDENTITY?: string;
  EAGER_ACTIVITIES?: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves when the worker polls its task queue. */
  polling: Promise<void>;
  /** For a standby: start polling. */
  go(): Promise<void>;
  kill(): Promise<void>;
  /** SIGTERM: the SDK drains and the process exits by itself. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

const SCRIPT = path.resolve(__dirname, '../helpers/worker-process.ts');

/** Starts a worker process; with `standby` it opens everything but polls only after go(). */
export function spawnWorker(env: WorkerEnv, options: { standby?: boolean } = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', SCRIPT], {
    env: { ...process.env, ...env, WAIT_FOR_GO: options.standby ? '1' : '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const seen = (word: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const look = (): boolean => {
        if (!output.includes(word)) return false;
        resolve();
        return true;
      };
      if (look()) return;
      const onData = (): void => {
        if (look()) child.stdout?.off('data', onData);
      };
      child.stdout?.on('data', onData);
      void exited.then((code) => reject(new Error(`worker process ${child.pid} exited (${code}) before it said "${word}"`)));
    });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const polling = seen('ready');
  // A rejected "polling" of a worker killed while on standby is expected, not an unhandled rejection.
  polling.catch(() => undefined);
  const handle: WorkerProcess = {
    child,
    pid: child.pid as number,
    polling,
    go: async () => {
      child.stdin?.write('go\n');
      await polling;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    exited,
  };
  return seen(options.standby ? 'standby' : 'ready').then(() => handle);
}
