/**
 * Finds the Temporal CLI (which runs the dev server) or builds it once.
 *
 * Order: TEMPORAL_CLI_PATH; the binary cached in the project's cache folder;
 * `temporal` on PATH; a one-time `go install` into the cache when Go is
 * present; otherwise the SDK's own download (needs internet). Machines without
 * internet cannot use the SDK download, which is why the Go build exists.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { UserFacingError } from '../support/user-facing-error';

const execFileAsync = promisify(execFile);

/** The CLI version we build: later tags carry a `replace` directive that `go install` refuses. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export class TemporalCliNotFoundError extends UserFacingError {
  override readonly name: string = 'TemporalCliNotFoundError';
}

/** The project's cache folder, shared by every clone on the machine. @default ~/.cache/temporal-coupling-sync */
export function cacheDir(): string {
  const base = process.env.COUPLING_SYNC_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'temporal-coupling-sync');
  return base;
}

export function cachedCliPath(): string {
  return path.join(cacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`, process.platform === 'win32' ? 'temporal.exe' : 'temporal');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(command: string, extraDirs: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export interface ResolvedCli {
  /** What to hand to TestWorkflowEnvironment.createLocal / EphemeralServer. */
  executable: EphemeralServerExecutable;
  /** Where it came from, for the log line. */
  source: 'TEMPORAL_CLI_PATH' | 'cache' | 'PATH' | 'go build' | 'sdk download';
  /** Path of the binary, when it is on disk. */
  path: string | null;
}

export interface ResolveOptions {
  /** Where progress lines go. @default console.error */
  log?: (line: string) => void;
  /** Allow the one-time Go build. @default true */
  allowBuild?: boolean;
}

/** Builds the CLI with `go install` into the cache; atomic, so a killed build leaves no half binary. */
async function buildWithGo(goBinary: string, log: (line: string) => void): Promise<string> {
  const target = cachedCliPath();
  mkdirSync(path.dirname(target), { recursive: true });
  const staging = mkdtempSync(path.join(path.dirname(target), 'build-'));
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (a one-time build, cached in ${path.dirname(target)})...`);
  const started = Date.now();
  try {
    await execFileAsync(goBinary, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    renameSync(path.join(staging, path.basename(target)), target);
  } catch (error) {
    const detail =
      error instanceof Error ? (error as Error & { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') || error.message : String(error);
    throw new TemporalCliNotFoundError(
      `Building the Temporal CLI with "go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}" failed (${detail}); set TEMPORAL_CLI_PATH to an existing temporal binary instead.`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`Built the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(1)} s: ${target}`);
  return target;
}

export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<ResolvedCli> {
  const log = options.log ?? ((line: string) => console.error(line));
  const fromEnv = process.env.TEMPORAL_CLI_PATH?.trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH is set to "${fromEnv}", which is not an executable file; fix the path or unset it.`);
    }
    return { executable: { type: 'existing-path', path: fromEnv }, source: 'TEMPORAL_CLI_PATH', path: fromEnv };
  }
  const cached = cachedCliPath();
  if (existsSync(cached) && isExecutable(cached)) return { executable: { type: 'existing-path', path: cached }, source: 'cache', path: cached };
  const onPath = findOnPath('temporal');
  if (onPath) return { executable: { type: 'existing-path', path: onPath }, source: 'PATH', path: onPath };
  const go = findOnPath('go', ['/usr/local/go/bin', path.join(os.homedir(), 'go', 'bin')]);
  if (go && options.allowBuild !== false) {
    const built = await buildWithGo(go, log);
    return { executable: { type: 'existing-path', path: built }, source: 'go build', path: built };
  }
  log('No Temporal CLI found and no Go toolchain to build one: trying the SDK download (needs internet).');
  return { executable: { type: 'cached-download', downloadDir: path.join(cacheDir(), 'sdk-download') }, source: 'sdk download', path: null };
}

/** The sentence shown when the SDK download of the CLI failed too. */
export function cliUnavailableMessage(cause: unknown): string {
  const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return `The Temporal CLI is not available: no TEMPORAL_CLI_PATH, no cached binary in ${path.dirname(cachedCliPath())}, no "temporal" on PATH, no Go toolchain to build it (install Go from https://go.dev/dl or set TEMPORAL_CLI_PATH), and the SDK's download failed (${reason}).`;
}
