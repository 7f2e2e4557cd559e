/** `npm run temporal-cli`: finds or builds the Temporal CLI and prints its path (used by .ci/run). */
import { resolveTemporalCli } from './temporal-cli';
import { runMain } from '../support/fatal';

runMain(async () => {
  const cli = await resolveTemporalCli({ log: (l) => console.log(l) });
  console.log(`Temporal CLI: ${cli.path ?? '(the SDK will download it)'} [${cli.source}]`);
});
