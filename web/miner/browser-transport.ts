import type { PoolTransport } from './pool-client.js';

/** The browser's WebSocket as a PoolTransport (Stratum, one JSON message per frame). */
export function browserTransport(url: string): PoolTransport {
  const socket = new WebSocket(url);
  return {
    send(text) {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    },
    close() {
      socket.close();
    },
    onOpen(listener) {
      socket.addEventListener('open', () => listener());
    },
    onMessage(listener) {
      socket.addEventListener('message', (event: MessageEvent) => {
        if (typeof event.data === 'string') listener(event.data);
      });
    },
    onClose(listener) {
      let closed = false;
      const once = (reason: string) => {
        if (closed) return;
        closed = true;
        listener(reason);
      };
      socket.addEventListener('error', () => once('the connection to the pool failed'));
      socket.addEventListener('close', (event: CloseEvent) => once(event.reason || `the pool closed the connection (code ${event.code})`));
    },
  };
}

/** The gateway's Stratum endpoint on this page's own origin. */
export function sameOriginStratumUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/stratum`;
}
