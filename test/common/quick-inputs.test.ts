/** The zod-free singleSync check accepts only what the schema accepts, and returns what the schema returns. */
import { singleSyncInputSchema } from '../../common/inputs';
import { quickSingleSyncInput } from '../../common/quick-inputs';

const MAPPINGS: unknown[] = [
  'CUSTOMER',
  'a.b-c_9',
  ' CUSTOMER',
  'CUSTOMER ',
  '',
  'X'.repeat(100),
  'X'.repeat(101),
  'CÜSTOMER',
  'CUST OMER',
  'C\u0000',
  7,
  null,
  ['CUSTOMER'],
];
const IDS: unknown[] = [
  'C1',
  ' C1 ',
  '',
  'x'.repeat(200),
  'x'.repeat(201),
  'a\u0000b',
  '\u202eevil',
  '😀'.repeat(100),
  '😀'.repeat(101),
  1,
  null,
  { id: 'C1' },
];
const SIDES: unknown[] = [Symbol.for('absent'), 'local', 'integration', 'LOCAL', undefined, null, ''];
const DIRECTIONS: unknown[] = [Symbol.for('absent'), 'ToIntegrationTable', 'FromIntegrationTable', 'toIntegrationTable', undefined, null, 3];
const EXTRAS: Record<string, unknown>[] = [
  {},
  { retry: { maximumAttempts: 3 } },
  { retry: {} },
  { unknown: 1 },
  { recordIds: ['C1'] },
  { __proto__: null } as never,
];
const ABSENT = Symbol.for('absent');

function* inputs(): Generator<unknown> {
  for (const mapping of MAPPINGS)
    for (const recordId of IDS)
      for (const side of SIDES)
        for (const direction of DIRECTIONS)
          for (const extra of EXTRAS) {
            const input: Record<string, unknown> = { mapping, recordId, ...extra };
            if (side !== ABSENT) input.side = side;
            if (direction !== ABSENT) input.direction = direction;
            yield input;
          }
  yield* [
    null,
    undefined,
    'CUSTOMER',
    [],
    [{ mapping: 'CUSTOMER', recordId: 'C1' }],
    { recordId: 'C1' },
    { mapping: 'CUSTOMER' },
    Object.assign(Object.create(null), { mapping: 'CUSTOMER', recordId: 'C1' }),
  ];
}

test('every input the quick check accepts, the schema accepts with the same result', () => {
  let accepted = 0;
  let total = 0;
  for (const input of inputs()) {
    total++;
    const quick = quickSingleSyncInput(input);
    if (quick === null) continue;
    accepted++;
    const parsed = singleSyncInputSchema.safeParse(input);
    expect({ input, success: parsed.success }).toEqual({ input, success: true });
    expect(quick).toStrictEqual(parsed.data);
  }
  // The common shapes take the quick path.
  expect(accepted).toBeGreaterThan(100);
  expect(total).toBeGreaterThan(10_000);
});

test('the usual inputs take the quick path', () => {
  expect(quickSingleSyncInput({ mapping: 'CUSTOMER', recordId: 'C10001' })).toStrictEqual({ mapping: 'CUSTOMER', recordId: 'C10001' });
  expect(quickSingleSyncInput({ mapping: 'CUSTOMER', recordId: 'A1', side: 'integration', direction: 'FromIntegrationTable' })).toStrictEqual({
    mapping: 'CUSTOMER',
    recordId: 'A1',
    side: 'integration',
    direction: 'FromIntegrationTable',
  });
  expect(quickSingleSyncInput({ mapping: 'CUSTOMER', recordId: 'C1', retry: { maximumAttempts: 3 } })).toBeNull();
  expect(quickSingleSyncInput({ mapping: ' CUSTOMER', recordId: 'C1' })).toBeNull();
});
