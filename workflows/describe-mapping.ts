/** describeMapping: a mapping's coupling count and last job, read from the store through an activity. */
import type { DescribeMappingInput } from '../common/inputs';
import { proxiesFor } from './activity-proxies';
import { clarify, validateInput } from './run-support';
import type { MappingOverview } from '../common/protocol';

export async function describeMappingWorkflow(rawInput: DescribeMappingInput): Promise<MappingOverview> {
  const input = validateInput('describeMapping', rawInput);
  try {
    return await proxiesFor(undefined).control.describeMapping({ mapping: input.mapping });
  } catch (error) {
    throw clarify(error);
  }
}
