/** The receivers' notify batcher: one signal per mapping, side and window; each caller settles with its signal. */
import type { LiveChange } from '../../common/inputs';
import { NotifyBatcher } from '../../worker/receivers/notify-batcher';

function recorder(fail = false) {
  const sent: { mapping: string; change: LiveChange }[] = [];
  return {
    sent,
    live: {
      notify: async (mapping: string, change: LiveChange): Promise<void> => {
        sent.push({ mapping, change });
        if (fail) throw new Error('Temporal is away');
      },
    },
  };
}

test('notifications within a window are one signal per mapping and side, ids merged; each caller waits for it', async () => {
  const { sent, live } = recorder();
  const batcher = new NotifyBatcher(live, { windowMs: 30 });
  const calls = [
    ...Array.from({ length: 100 }, (_, i) => batcher.notify('CUSTOMER', { side: 'integration', ids: [`a-${i % 60}`] })),
    batcher.notify('CUSTOMER', { side: 'local', ids: ['C1'] }),
    batcher.notify('CONTACT', { side: 'integration', ids: ['a-1'] }),
  ];
  expect(sent).toEqual([]);
  await Promise.all(calls);
  expect(sent).toHaveLength(3);
  const customers = sent.find((s) => s.mapping === 'CUSTOMER' && s.change.side === 'integration');
  expect(customers?.change.ids).toHaveLength(60);
  expect(sent.find((s) => s.change.side === 'local')?.change).toEqual({ side: 'local', ids: ['C1'] });
});

test('"many" takes over the ids of its window; a full batch goes at once; a failed signal fails every caller of it', async () => {
  const { sent, live } = recorder();
  const batcher = new NotifyBatcher(live, { windowMs: 10_000, maxIds: 5 });
  const full = Promise.all(['1', '2', '3', '4', '5'].map((id) => batcher.notify('M', { side: 'local', ids: [id] })));
  await full; // long before the window ends
  expect(sent).toEqual([{ mapping: 'M', change: { side: 'local', ids: ['1', '2', '3', '4', '5'] } }]);
  const a = batcher.notify('M', { side: 'local', ids: ['6'] });
  const b = batcher.notify('M', { side: 'local', many: true });
  await batcher.close();
  await Promise.all([a, b]);
  expect(sent[1]).toEqual({ mapping: 'M', change: { side: 'local', many: true } });

  const failing = recorder(true);
  const broken = new NotifyBatcher(failing.live, { windowMs: 5 });
  const results = await Promise.allSettled([broken.notify('M', { side: 'local', ids: ['1'] }), broken.notify('M', { side: 'local', ids: ['2'] })]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(failing.sent).toHaveLength(1);
});
