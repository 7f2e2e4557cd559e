/** The dev server's Web UI port: one taken between choosing and binding is chosen again, not a failed start. */
import net from 'node:net';
import { startDevServerWithUi } from '../../worker/dev-server';
import { freePort } from '../helpers/free-port';

test('a Web UI port taken before the server binds it costs a second choice, not the run', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const busy = (taken.address() as net.AddressInfo).port;
  const chosen: number[] = [];
  const pick = async (): Promise<number> => {
    const port = chosen.length === 0 ? busy : await freePort();
    chosen.push(port);
    return port;
  };
  const lines: string[] = [];
  try {
    const { env, uiPort } = await startDevServerWithUi(pick, { log: (l) => lines.push(l) });
    try {
      expect(chosen[0]).toBe(busy);
      expect(uiPort).not.toBe(busy);
      expect(lines.some((l) => l.includes(`Web UI on port ${busy}`))).toBe(true);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBeLessThan(500);
    } finally {
      await env.teardown();
    }
  } finally {
    taken.close();
  }
}, 60_000);
