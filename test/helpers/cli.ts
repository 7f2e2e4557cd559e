/** The CLI as a script runs it: a real process from bin/, against the run's dev server and a store file. */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: { taskQueue: string; databaseUrl: string }): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve('bin/coupling-sync.js'), ...args],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS, TEMPORAL_TASK_QUEUE: env.taskQueue, DATABASE_URL: env.databaseUrl },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
