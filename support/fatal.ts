/** The one place an entry point turns an error into a clear sentence and an exit code. */
import { redact } from './redact';
import { UserFacingError } from './user-facing-error';

export function describeFatal(error: unknown, context: { temporalAddress?: string; databaseUrl?: string } = {}): string {
  if (error instanceof UserFacingError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if (
    context.temporalAddress &&
    /connect|transport|unavailable|ECONNREFUSED|dns|timed? ?out|deadline/i.test(message) &&
    /temporal|grpc|tonic|transport|Failed to connect/i.test(message + (error as Error)?.name)
  ) {
    return `Cannot reach Temporal at ${context.temporalAddress}: start a server (npm start runs a dev server) or set TEMPORAL_ADDRESS to a reachable one.`;
  }
  if (/ECONNREFUSED|ENOTFOUND|password authentication|does not exist|SQLITE_CANTOPEN/i.test(message) && context.databaseUrl !== undefined) {
    return `Cannot open the store at ${redact(context.databaseUrl || 'the default SQLite file')}: ${redact(message.split('\n')[0])}; check DATABASE_URL.`;
  }
  return redact(message.split('\n')[0]);
}

export function runMain(main: () => Promise<void>, context: () => { temporalAddress?: string; databaseUrl?: string } = () => ({})): void {
  main().catch((error: unknown) => {
    console.error(`Error: ${describeFatal(error, context())}`);
    if (process.env.DEBUG) console.error(error);
    process.exit(1);
  });
}
