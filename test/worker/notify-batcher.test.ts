/** The receivers' notify batcher: one signal in flight per mapping and side, what arrives meanwhile in the next; each caller settles with its signal. */
import type { LiveChange } from '../../common/inputs';
import { NotifyBatcher } from '../../worker/receivers/notify-batcher';

function recorder(options: { fail?: boolean; delayMs?: number } = {}) {
  const sent: { mapping: string; change: LiveChange }[] = [];
  return {
    sent,
    live: {
      notify: async (mapping: string, change: LiveChange): Promise<void> => {
        sent.push({ mapping, change });
        await new Promise((r) => setTimeout(r, options.delayMs ?? 10));
        if (options.fail) throw new Error('Temporal is away');
      },
    },
  };
}

test('the first notification goes at once; those arriving while it is in flight go as one signal, per mapping and side', async () => {
  const { sent, live } = recorder();
  const batcher = new NotifyBatcher(live);
  const first = batcher.notify('CUSTOMER', { side: 'integration', ids: ['a-0'] });
  expect(sent).toEqual([{ mapping: 'CUSTOMER', change: { side: 'integration', ids: ['a-0'] } }]);
  const rest = [
    ...Array.from({ length: 99 }, (_, i) => batcher.notify('CUSTOMER', { side: 'integration', ids: [`a-${(i + 1) % 60}`] })),
    batcher.notify('CUSTOMER', { side: 'local', ids: ['C1'] }),
    batcher.notify('CONTACT', { side: 'integration', ids: ['a-1'] }),
  ];
  await Promise.all([first, ...rest]);
  const customers = sent.filter((s) => s.mapping === 'CUSTOMER' && s.change.side === 'integration');
  expect(customers).toHaveLength(2);
  expect(customers[1].change.ids).toHaveLength(60);
  expect(sent.find((s) => s.change.side === 'local')?.change).toEqual({ side: 'local', ids: ['C1'] });
  expect(sent).toHaveLength(4);
  await batcher.close();
});

test('"many" takes over the ids gathered with it; a failed signal fails every caller of it, and the next one goes on', async () => {
  const { sent, live } = recorder();
  const batcher = new NotifyBatcher(live);
  const a = batcher.notify('M', { side: 'local', ids: ['1'] });
  const b = batcher.notify('M', { side: 'local', ids: ['2'] });
  const c = batcher.notify('M', { side: 'local', many: true });
  await Promise.all([a, b, c]);
  expect(sent.map((s) => s.change)).toEqual([
    { side: 'local', ids: ['1'] },
    { side: 'local', many: true },
  ]);

  const failing = recorder({ fail: true });
  const broken = new NotifyBatcher(failing.live);
  const results = await Promise.allSettled([broken.notify('M', { side: 'local', ids: ['1'] }), broken.notify('M', { side: 'local', ids: ['2'] })]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(failing.sent).toHaveLength(2);
  await broken.close();
});
