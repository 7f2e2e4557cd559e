/** `npm run try -- <workflowType> '<json input>'`: starts a run on the local server and prints its result. */
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE } from '../common/constants';
import { runMain } from '../support/fatal';

async function main(): Promise<void> {
  const [type = 'bulkSyncWorkflow', json = '{"mapping":"CUSTOMER"}'] = process.argv.slice(2);
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const started = Date.now();
  const result: unknown = await client.workflow.execute(type, { taskQueue: TASK_QUEUE, workflowId: `try-${type}-${started}`, args: [JSON.parse(json)] });
  console.log(JSON.stringify(result, null, 2));
  console.log(`${type} finished in ${Date.now() - started} ms`);
  await connection.close();
}

runMain(main, () => ({ temporalAddress: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' }));
