/** Lookup columns through the Dataverse connector and emulator: read as _<lookup>_value, written with @odata.bind. No Temporal. */
import { randomUUID } from 'node:crypto';
import { DataverseConnector } from '../../connectors/dataverse';
import { ACCOUNT_ENTITY, CONTACT_ENTITY, startDataverseEmulator, type DataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';

let emulator: DataverseEmulator;
beforeAll(async () => {
  emulator = await startDataverseEmulator({ entities: [ACCOUNT_ENTITY, CONTACT_ENTITY] });
});
afterAll(async () => {
  await emulator?.close();
});

function connector(withLookups = true): DataverseConnector {
  return new DataverseConnector({
    name: 'dataverse',
    environmentUrl: emulator.environmentUrl,
    credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
    tables: {
      account: { entitySet: 'accounts', idAttribute: 'accountid' },
      contact: {
        entitySet: 'contacts',
        idAttribute: 'contactid',
        ...(withLookups && { lookups: { parentcustomerid: { navigationProperty: 'parentcustomerid_account', entitySet: 'accounts' } } }),
      },
    },
  });
}

test('a lookup is written through its navigation property, read back as a plain column, filtered on, and cleared with null', async () => {
  const [a1, a2] = emulator.put('accounts', [{ name: 'One' }, { name: 'Two' }]).map((r) => String(r.accountid));
  const dv = connector();
  expect(await dv.describeTable('contact')).toContain('parentcustomerid');
  const key = randomUUID();
  const [created] = await dv.createMany('contact', [{ key, values: { fullname: 'Ann', parentcustomerid: a1 } }]);
  expect(created).toMatchObject({ ok: true, id: key });
  // Stored as the lookup's value: the emulator takes a lookup only through @odata.bind (the last test).
  expect(emulator.get('contacts', key)).toMatchObject({ fullname: 'Ann', _parentcustomerid_value: a1 });

  const [read] = await dv.getMany({ table: 'contact', ids: [key], fields: ['fullname', 'parentcustomerid'] });
  expect(read.values).toEqual({ fullname: 'Ann', parentcustomerid: a1 });
  const filtered = await dv.readChanged({
    table: 'contact',
    fields: ['parentcustomerid'],
    filter: [{ field: 'parentcustomerid', op: 'eq', value: a1 }],
    since: null,
    after: null,
    through: null,
    limit: 10,
  });
  expect(filtered.map((r) => r.id)).toEqual([key]);

  const [moved] = await dv.updateMany('contact', [{ id: key, values: { parentcustomerid: a2 } }]);
  expect(moved.ok).toBe(true);
  expect(emulator.get('contacts', key)).toMatchObject({ _parentcustomerid_value: a2 });
  const [cleared] = await dv.updateMany('contact', [{ id: key, values: { parentcustomerid: null } }]);
  expect(cleared.ok).toBe(true);
  expect(emulator.get('contacts', key)).toMatchObject({ _parentcustomerid_value: null });
});

test('a reference to a missing record, or one that is not a GUID, fails that record only, naming the lookup', async () => {
  const [a1] = emulator.put('accounts', [{ name: 'Three' }]).map((r) => String(r.accountid));
  const dv = connector();
  const missing = randomUUID();
  const results = await dv.createMany('contact', [
    { key: randomUUID(), values: { fullname: 'Ok', parentcustomerid: a1 } },
    { key: randomUUID(), values: { fullname: 'Gone', parentcustomerid: missing } },
    { key: randomUUID(), values: { fullname: 'Bad', parentcustomerid: 'K-1' } },
  ]);
  expect(results[0].ok).toBe(true);
  expect(results[1]).toMatchObject({ ok: false, error: { kind: 'permanent', message: expect.stringContaining(`With Id = ${missing} Does Not Exist`) } });
  expect(results[2]).toMatchObject({ ok: false, error: { kind: 'permanent', message: 'lookup parentcustomerid: "K-1" is not the GUID of a accounts record' } });
});

test('the emulator refuses a lookup written as a plain attribute, as Dataverse does', async () => {
  const [a1] = emulator.put('accounts', [{ name: 'Four' }]).map((r) => String(r.accountid));
  const [result] = await connector(false).createMany('contact', [{ key: randomUUID(), values: { fullname: 'Plain', parentcustomerid: a1 } }]);
  expect(result).toMatchObject({ ok: false, error: { kind: 'permanent', message: expect.stringContaining("undeclared property 'parentcustomerid'") } });
  await expect(connector(false).getMany({ table: 'contact', ids: [randomUUID()], fields: ['parentcustomerid'] })).rejects.toThrow(/parentcustomerid/);
});
