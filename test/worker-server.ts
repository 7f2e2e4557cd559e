/**
 * Runs in every test file before its tests (Jest setupFiles): points it at the
 * dev server of its own Jest worker (test/global-setup.ts starts one per
 * worker), so every helper and every CLI a test spawns reads the one address.
 */
const worker = process.env.JEST_WORKER_ID ?? '1';
for (const name of ['TEMPORAL_TEST_ADDRESS', 'TEMPORAL_TEST_UI_URL']) {
  const own = process.env[`${name}_${worker}`];
  if (own) process.env[name] = own;
}
