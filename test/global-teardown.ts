export default async function globalTeardown(): Promise<void> {
  await globalThis.__TEMPORAL_ENV__?.teardown();
}
