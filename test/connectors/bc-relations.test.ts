/** The Business Central emulator's table relations and code-keyed entity sets, through the connector. No Temporal. */
import { BusinessCentralConnector } from '../../connectors/business-central';
import { startBusinessCentralEmulator, type BusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';

let bc: BusinessCentralEmulator;
beforeAll(async () => {
  bc = await startBusinessCentralEmulator();
});
afterAll(async () => {
  await bc?.close();
});

test('a customer may name only a currency, payment terms and salesperson that exist; an empty one is fine', async () => {
  bc.seed('currencies', [{ code: 'EUR', displayName: 'Euro', symbol: '€' }]);
  const [net30] = bc.seed('paymentTerms', [{ code: 'NET30', displayName: 'Net 30 days', dueDateCalculation: '30D' }]);
  const connector = new BusinessCentralConnector(bc.connectorOptions());
  const results = await connector.createMany('customers', [
    { key: 'k1', values: { displayName: 'Good', currencyCode: 'eur', paymentTermsId: String(net30.id) } },
    { key: 'k2', values: { displayName: 'Bad currency', currencyCode: 'XYZ' } },
    { key: 'k3', values: { displayName: 'Bad terms', paymentTermsId: '6f9619ff-8b86-d011-b42d-00c04fc964ff' } },
    { key: 'k4', values: { displayName: 'None' } },
  ]);
  expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
  expect(results[1]).toMatchObject({
    error: {
      message: expect.stringContaining(
        'The field Currency Code of table Customer contains a value (XYZ) that cannot be found in the related table (Currency).',
      ),
    },
  });
  expect(results[2]).toMatchObject({ error: { message: expect.stringContaining('Payment Terms Code') } });
  const good = bc.records('customers').find((r) => r.displayName === 'Good');
  expect(good).toMatchObject({ currencyCode: 'EUR', paymentTermsId: String(net30.id) });
  expect(bc.records('customers').find((r) => r.displayName === 'None')).toMatchObject({
    currencyCode: '',
    paymentTermsId: '00000000-0000-0000-0000-000000000000',
  });
});

test('code-keyed entity sets are keyed on their code: the connector creates one record per code, the emulator refuses a second or none', async () => {
  const connector = new BusinessCentralConnector({ ...bc.connectorOptions(), tables: { salespeople: { numberField: 'code' } } });
  const results = await connector.createMany('salespeople', [
    { key: 's1', values: { code: 'jr', displayName: 'John Roberts' } },
    { key: 's2', values: { code: 'JR', displayName: 'John Roberts' } },
  ]);
  expect(results.map((r) => r.ok)).toEqual([true, true]);
  expect(bc.records('salespeople').map((r) => r.code)).toEqual(['JR']);
  expect(() => bc.seed('salespeople', [{ code: 'JR' }])).toThrow(/already exists.*Code='JR'/);
  expect(() => bc.seed('salespeople', [{ displayName: 'No code' }])).toThrow(/Code must have a value/);
});
