/**
 * The BC EMULATOR's subscription rules and the receiver's checks, without
 * Temporal: a notificationUrl that does not answer the handshake cannot be
 * subscribed; a renewal needs If-Match; an expired subscription gets nothing;
 * the receiver's parsing refuses what is not a notification list of its own.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { changesOf } from '../../worker/receivers/bc-webhooks';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

test('the receiver takes ids and collections of its own clientState, and refuses anything else', () => {
  const n = (x: Record<string, unknown>) => ({ clientState: 's', changeType: 'updated', resource: `/api/v2.0/companies(c)/customers(${ID})`, ...x });
  expect(changesOf(JSON.stringify({ value: [n({}), n({ changeType: 'deleted' })] }), 's')).toEqual({ ids: [ID], many: false });
  expect(changesOf(JSON.stringify({ value: [n({ changeType: 'collection', resource: '/api/v2.0/companies(c)/customers' })] }), 's')).toEqual({
    ids: [],
    many: true,
  });
  expect(changesOf(JSON.stringify({ value: [n({}), n({ clientState: 'x' })] }), 's')).toMatchObject({ status: 401 });
  expect(changesOf(JSON.stringify({ value: [n({ clientState: undefined })] }), 's')).toMatchObject({ status: 401 });
  expect(changesOf('{"value": []}', 's')).toMatchObject({ status: 400 });
  expect(changesOf('nope', 's')).toMatchObject({ status: 400 });
  expect(changesOf(JSON.stringify({ value: [n({ changeType: 'renamed' })] }), 's')).toMatchObject({ status: 400 });
  expect(changesOf(JSON.stringify({ value: [n({ resource: '/api/v2.0/companies(c)/customers' })] }), 's')).toMatchObject({ status: 400 });
});

test('the emulator validates, renews only with If-Match, and delivers nothing to an expired subscription', async () => {
  let clock = Date.now();
  const emu = await startBusinessCentralEmulator({ now: () => new Date(clock), subscriptionRules: { batchDelayMs: 20, retry: { attempts: 1, delayMs: 10 } } });
  const received: string[] = [];
  let answerHandshake = false;
  const server = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    if (token !== null) return res.writeHead(answerHandshake ? 200 : 500).end(answerHandshake ? token : '');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const subs = new BusinessCentralConnector(emu.connectorOptions()).subscriptions(() => new Date(clock));
    await expect(subs.ensure({ notificationUrl: url, entitySet: 'customers', clientState: 's' })).rejects.toThrow(/did not answer the validation token/);
    answerHandshake = true;
    const { subscription } = await subs.ensure({ notificationUrl: url, entitySet: 'customers', clientState: 's' });
    expect(Date.parse(subscription.expirationDateTime) - clock).toBe(3 * 24 * 3_600_000);
    const [c] = emu.seed('customers', [{ displayName: 'One' }]);
    await emu.subscriptions.flush();
    expect(JSON.parse(received[0]).value).toEqual([
      expect.objectContaining({
        subscriptionId: subscription.subscriptionId,
        clientState: 's',
        changeType: 'created',
        resource: expect.stringContaining(String(c.id)),
      }),
    ]);
    // A renewal without If-Match is refused, as BC does.
    const bare = await fetch(`${emu.apiUrl}/subscriptions('${subscription.subscriptionId}')`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${await tokenOf(emu)}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(bare.status).toBe(428);
    // Three days on, it is gone: no delivery.
    clock += 3 * 24 * 3_600_000 + 1;
    emu.edit('customers', String(c.id), { displayName: 'Two' });
    await emu.subscriptions.flush();
    expect(received).toHaveLength(1);
    expect(await subs.list()).toEqual([]);
  } finally {
    await new Promise((r) => server.close(r));
    await emu.close();
  }
});

async function tokenOf(emu: { tokenUrl: string; clientId: string; clientSecret: string }): Promise<string> {
  const response = await fetch(emu.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      scope: 'https://api.businesscentral.dynamics.com/.default',
    }).toString(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
