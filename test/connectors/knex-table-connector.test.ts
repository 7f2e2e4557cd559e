/** The Knex connector's creates by key: a replay writes over the record the key names, and says it did. */
import { account, openTestSystems } from '../helpers/systems';

test('createMany says which keys named a record already there, in the multi-row path and the row-by-row one', async () => {
  const sys = await openTestSystems();
  try {
    const connector = sys.systems.integration;
    const first = await connector.createMany('account', [
      { key: 'A1', values: account('A1') },
      { key: 'A2', values: account('A2') },
    ]);
    expect(first.map((r) => r.ok && r.existed)).toEqual([false, false]);
    const again = await connector.createMany('account', [
      { key: 'A2', values: account('A2', { name: 'Again' }) },
      { key: 'A3', values: account('A3') },
    ]);
    expect(again.map((r) => r.ok && r.existed)).toEqual([true, false]);
    expect(await sys.integration('account').where('id', 'A2').first()).toMatchObject({ name: 'Again' });
    // A bad row sends the batch row by row: the others still say what they found.
    const mixed = await connector.createMany('account', [
      { key: 'A1', values: account('A1') },
      { key: 'A9', values: { no_such_column: 1 } },
      { key: 'A4', values: account('A4') },
    ]);
    expect(mixed.map((r) => r.ok && r.existed)).toEqual([true, false, false]);
    expect(mixed[1].ok).toBe(false);
  } finally {
    await sys.close();
  }
});
