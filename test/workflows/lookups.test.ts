/**
 * Lookup fields on the real dev server, with Knex tables on both sides: a
 * contact keeps its company in each direction, a company that is not coupled
 * fails the contact (or, with Clear Value on Failed Sync, empties the
 * reference with a warning), and the translation reads couplings once per
 * batch and lookup field.
 */
import type { Knex } from 'knex';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { openTestSystems, tick, type TestSystems } from '../helpers/systems';
import { sqliteDialect } from '../helpers/stores';
import type { MappingDefinition } from '../../domain/mapping';
import type { Store } from '../../store/store';
import { TABLES } from '../../store/tables';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const COMPANY: MappingDefinition = {
  name: 'COMPANY',
  local: { system: 'local', table: 'company' },
  integration: { system: 'integration', table: 'account' },
  direction: 'Bidirectional',
  syncOnlyCoupledRecords: false,
  fields: [{ localField: 'name', integrationField: 'name' }],
};

function contactMapping(lookup: { clearValueOnFailedSync?: boolean } = {}): MappingDefinition {
  return {
    name: 'CONTACT',
    local: { system: 'local', table: 'person' },
    integration: { system: 'integration', table: 'contact' },
    direction: 'Bidirectional',
    syncOnlyCoupledRecords: false,
    dependsOn: ['COMPANY'],
    fields: [
      { localField: 'name', integrationField: 'fullname' },
      // The local side names its company by number (as BC does), the integration side by id (as Dataverse does).
      { localField: 'company_no', integrationField: 'parentcustomerid', lookup: { mapping: 'COMPANY', localKey: 'number', ...lookup } },
    ],
  };
}

interface Ctx {
  store: Store;
  sys: TestSystems;
  close(): Promise<void>;
}

async function open(lookup: { clearValueOnFailedSync?: boolean } = {}): Promise<Ctx> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  await sys.local.schema.createTable('company', (t) => {
    t.string('id', 64).primary();
    t.string('number', 20).nullable();
    t.string('name', 200).nullable();
    t.string('modified_on', 32).notNullable();
  });
  await sys.local.schema.createTable('person', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('company_no', 20).nullable();
    t.string('modified_on', 32).notNullable();
  });
  await sys.integration.schema.createTable('contact', (t) => {
    t.string('id', 64).primary();
    t.string('fullname', 200).nullable();
    t.string('parentcustomerid', 64).nullable();
    t.string('modified_on', 32).notNullable();
  });
  await store.saveMapping(COMPANY);
  await store.saveMapping(contactMapping(lookup));
  return {
    store,
    sys,
    close: async () => {
      await sys.close();
      await cleanup();
    },
  };
}

const company = (id: string, number: string) => ({ id, number, name: `Company ${number}`, modified_on: tick() });
const person = (id: string, companyNo: string | null) => ({ id, name: `Person ${id}`, company_no: companyNo, modified_on: tick() });

async function counterpart(store: Store, mapping: string, localId: string): Promise<string> {
  const [coupling] = await store.getCouplings(mapping, 'local', [localId]);
  if (!coupling) throw new Error(`${mapping} ${localId} is not coupled`);
  return coupling.integrationId;
}

test('a contact keeps its company in each direction, whichever record was created first', async () => {
  const ctx = await open();
  try {
    // The person is older than its company: order of creation does not matter, the mappings' order does.
    await ctx.sys.local('person').insert(person('P1', 'K-1'));
    await ctx.sys.local('company').insert(company('K1', 'K-1'));
    await withWorker(temporal, { store: ctx.store, systems: ctx.sys.systems }, async ({ sync }) => {
      await sync.bulkSync({ mapping: 'COMPANY', direction: 'ToIntegrationTable' });
      const pushed = await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable' });
      expect(pushed.jobs[0].counters).toMatchObject({ inserted: 1, failed: 0 });
      const accountId = await counterpart(ctx.store, 'COMPANY', 'K1');
      const contactId = await counterpart(ctx.store, 'CONTACT', 'P1');
      expect(await ctx.sys.integration('contact').where('id', contactId).first()).toMatchObject({ fullname: 'Person P1', parentcustomerid: accountId });

      // From the integration side: a new account and a contact of it, then the contact moves to the first account.
      await ctx.sys.integration('account').insert({ id: 'A2', name: 'Company two', modified_on: tick() });
      await ctx.sys.integration('contact').insert({ id: 'D2', fullname: 'Dee', parentcustomerid: 'A2', modified_on: tick() });
      await sync.bulkSync({ mapping: 'COMPANY', direction: 'FromIntegrationTable' });
      const [k2] = await ctx.store.getCouplings('COMPANY', 'integration', ['A2']);
      await ctx.sys.local('company').where('id', k2.localId).update({ number: 'K-2', modified_on: tick() });
      const pulled = await sync.bulkSync({ mapping: 'CONTACT', direction: 'FromIntegrationTable' });
      expect(pulled.jobs[0].counters).toMatchObject({ inserted: 1, failed: 0 });
      const [d2] = await ctx.store.getCouplings('CONTACT', 'integration', ['D2']);
      expect(await ctx.sys.local('person').where('id', d2.localId).first()).toMatchObject({ name: 'Dee', company_no: 'K-2' });

      await ctx.sys.integration('contact').where('id', 'D2').update({ parentcustomerid: accountId, modified_on: tick() });
      const moved = await sync.bulkSync({ mapping: 'CONTACT', direction: 'FromIntegrationTable' });
      expect(moved.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
      expect(await ctx.sys.local('person').where('id', d2.localId).first()).toMatchObject({ company_no: 'K-1' });
      // Nothing changed since: the translated reference equals what is there, so nothing is written.
      const again = await sync.bulkSync({ mapping: 'CONTACT', fullSync: true });
      expect(again.jobs.map((j) => j.counters.modified)).toEqual([0, 0]);
    });
  } finally {
    await ctx.close();
  }
});

test('a contact whose company is not coupled fails, naming the field, the company and the mapping; it succeeds once the company is coupled', async () => {
  const ctx = await open();
  try {
    await ctx.sys.local('company').insert(company('K1', 'K-1'));
    await ctx.sys.local('person').insert([person('P1', 'K-1'), person('P2', null), person('P3', 'K-404')]);
    await withWorker(temporal, { store: ctx.store, systems: ctx.sys.systems }, async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable' });
      // P2 has no company: an empty reference stays empty and is no problem.
      expect(first.jobs[0].counters).toMatchObject({ inserted: 1, failed: 2 });
      const errors = await ctx.store.listErrors({ jobId: first.jobs[0].jobId });
      const bySource = new Map(errors.map((e) => [e.sourceRecordId, e]));
      expect(bySource.get('P1')?.message).toBe(
        'Field "company_no" -> "parentcustomerid": the local record with number "K-1" in local.company it references is not coupled in mapping COMPANY; couple or synchronize it first.',
      );
      expect(bySource.get('P3')?.message).toMatch(/references the local record with number "K-404" in local\.company, which does not exist/);
      expect(await ctx.sys.integration('contact').count({ n: '*' }).first()).toEqual({ n: 1 });

      await sync.bulkSync({ mapping: 'COMPANY', direction: 'ToIntegrationTable' });
      const retried = await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable' });
      expect(retried.jobs[0].counters).toMatchObject({ inserted: 1, failed: 1 });
      const contactId = await counterpart(ctx.store, 'CONTACT', 'P1');
      expect(await ctx.sys.integration('contact').where('id', contactId).first()).toMatchObject({
        parentcustomerid: await counterpart(ctx.store, 'COMPANY', 'K1'),
      });
    });
  } finally {
    await ctx.close();
  }
});

test('with Clear Value on Failed Sync the reference is written empty, counted modified, with a warning row', async () => {
  const ctx = await open({ clearValueOnFailedSync: true });
  try {
    await ctx.sys.local('company').insert(company('K1', 'K-1'));
    await ctx.sys.local('person').insert(person('P1', 'K-1'));
    await withWorker(temporal, { store: ctx.store, systems: ctx.sys.systems }, async ({ sync }) => {
      await sync.bulkSync({ mapping: 'COMPANY', direction: 'ToIntegrationTable' });
      await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable' });
      const contactId = await counterpart(ctx.store, 'CONTACT', 'P1');
      expect(await ctx.sys.integration('contact').where('id', contactId).first()).toMatchObject({
        parentcustomerid: await counterpart(ctx.store, 'COMPANY', 'K1'),
      });
      // K3 is new and not synchronized yet: the person's move to it cannot be carried across.
      await ctx.sys.local('company').insert(company('K3', 'K-3'));
      await ctx.sys.local('person').where('id', 'P1').update({ company_no: 'K-3', modified_on: tick() });
      const cleared = await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable' });
      expect(cleared.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
      expect(await ctx.sys.integration('contact').where('id', contactId).first()).toMatchObject({ fullname: 'Person P1', parentcustomerid: null });
      const [warning] = await ctx.store.listErrors({ jobId: cleared.jobs[0].jobId });
      expect(warning).toMatchObject({ sourceRecordId: 'P1', severity: 'warning' });
      expect(warning.message).toMatch(/"company_no" -> "parentcustomerid": the local record with number "K-3" .* is not coupled in mapping COMPANY/);
    });
  } finally {
    await ctx.close();
  }
});

test('the translation reads couplings once per batch and lookup field, never per record', async () => {
  const ctx = await open();
  try {
    await ctx.sys.local('company').insert(Array.from({ length: 5 }, (_, i) => company(`K${i}`, `K-${i}`)));
    await ctx.sys.local('person').insert(Array.from({ length: 30 }, (_, i) => person(`P${String(i).padStart(2, '0')}`, `K-${i % 5}`)));
    await withWorker(temporal, { store: ctx.store, systems: ctx.sys.systems }, async ({ sync }) => {
      await sync.bulkSync({ mapping: 'COMPANY', direction: 'ToIntegrationTable' });
      const reads: string[] = [];
      const onQuery = (q: Knex.Sql): void => {
        if (/^select/i.test(q.sql) && new RegExp(`[\`"]${TABLES.couplings}[\`"]`).test(q.sql) && q.bindings.includes('COMPANY')) reads.push(q.sql);
      };
      ctx.store.knex.on('query', onQuery);
      try {
        const run = await sync.bulkSync({ mapping: 'CONTACT', direction: 'ToIntegrationTable', batchSize: 10, maxBatchesInFlight: 1 });
        expect(run.jobs[0].counters).toMatchObject({ inserted: 30, failed: 0 });
      } finally {
        ctx.store.knex.off('query', onQuery);
      }
      // Three batches of ten, one lookup field: three reads of COMPANY's couplings.
      expect(reads).toHaveLength(3);
      const accounts = new Set((await ctx.sys.integration('contact').select('parentcustomerid')).map((r: { parentcustomerid: string }) => r.parentcustomerid));
      expect(accounts.size).toBe(5);
    });
  } finally {
    await ctx.close();
  }
});

test('match-based coupling that creates unmatched records carries their lookups, and fails the ones whose company is not coupled', async () => {
  const ctx = await open();
  try {
    const matching = contactMapping();
    await ctx.store.saveMapping({ ...matching, fields: [{ ...matching.fields[0], useForMatching: true }, matching.fields[1]] });
    await ctx.sys.local('company').insert([company('K1', 'K-1'), company('K2', 'K-2')]);
    await withWorker(temporal, { store: ctx.store, systems: ctx.sys.systems }, async ({ sync }) => {
      await sync.bulkSync({ mapping: 'COMPANY', direction: 'ToIntegrationTable' });
      await ctx.sys.local('person').insert([person('P1', 'K-1'), person('P2', 'K-9')]);
      const run = await sync.matchBasedCoupling({ mapping: 'CONTACT', createNewIfNoMatch: true });
      expect(run.jobs[0].counters).toMatchObject({ inserted: 1, coupled: 1, failed: 1 });
      const contactId = await counterpart(ctx.store, 'CONTACT', 'P1');
      expect(await ctx.sys.integration('contact').where('id', contactId).first()).toMatchObject({
        parentcustomerid: await counterpart(ctx.store, 'COMPANY', 'K1'),
      });
      const [error] = await ctx.store.listErrors({ jobId: run.jobs[0].jobId });
      expect(error).toMatchObject({ sourceRecordId: 'P2', severity: 'error' });
      expect(error.message).toMatch(/creating one failed: Field "company_no" -> "parentcustomerid": references the local record with number "K-9"/);
    });
  } finally {
    await ctx.close();
  }
});
