// A TCP proxy on loopback in front of a real server (anvil's RPC, an upstream Stratum pool), so a
// test can make the network fail in the ways a real one does: refused connections, a black hole
// that holds data back, connections reset mid-stream.
import net from 'node:net';

export interface FaultProxy {
  /** The port clients connect to: the same one across down()/up(). */
  readonly port: number;
  /** Connections accepted so far (a reconnect shows up as a new one). */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Closes the listener and destroys every connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /**
   * Accepts and keeps connections but forwards nothing, in either direction, until resume(); what
   * arrives meanwhile is held and delivered on resume, as TCP delivers after a partition heals.
   */
  stall(): void;
  resume(): void;
  /** Destroys the current connections once (both sides see a reset); keeps listening. */
  drop(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  server: net.Socket;
  /** Held while stalled, in arrival order, per direction. */
  toServer: Buffer[];
  toClient: Buffer[];
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  const links = new Set<Link>();
  let stalled = false;
  let accepted = 0;
  let port = 0;
  let listener: net.Server | undefined;

  function accept(client: net.Socket): void {
    accepted++;
    const server = net.connect({ host, port: target.port });
    const link: Link = { client, server, toServer: [], toClient: [] };
    links.add(link);
    const end = () => {
      links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => (stalled ? link.toServer.push(chunk) : server.write(chunk)));
    server.on('data', (chunk: Buffer) => (stalled ? link.toClient.push(chunk) : client.write(chunk)));
  }

  function listen(): Promise<void> {
    const s = net.createServer(accept);
    listener = s;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        port = (s.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  function destroyAll(): void {
    for (const link of [...links]) {
      link.client.destroy();
      link.server.destroy();
    }
    links.clear();
  }

  async function down(): Promise<void> {
    const s = listener;
    listener = undefined;
    destroyAll();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    down,
    async up() {
      if (!listener) await listen();
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const link of links) {
        for (const chunk of link.toServer.splice(0)) link.server.write(chunk);
        for (const chunk of link.toClient.splice(0)) link.client.write(chunk);
      }
    },
    drop: destroyAll,
    close: down,
  };
}
