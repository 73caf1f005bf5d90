// A CPU profile of the gateway child over part of the run, taken through its inspector (started
// with --inspect=127.0.0.1:0): unlike --cpu-prof, which covers the whole life of the process,
// this covers only the seconds under load, not the start and the connect phase.
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

export class InspectorProfiler {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (result: unknown) => void; reject: (err: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error) waiter?.reject(new Error(`inspector: ${message.error.message}`));
      else waiter?.resolve(message.result);
    });
    ws.on('close', () => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error('inspector connection closed'));
      this.waiting.clear();
    });
  }

  static async connect(url: string): Promise<InspectorProfiler> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    const profiler = new InspectorProfiler(ws);
    await profiler.call('Profiler.enable');
    return profiler;
  }

  start(): Promise<unknown> {
    return this.call('Profiler.start');
  }

  /** Stops the profile and writes it as a .cpuprofile (Chrome DevTools opens it). */
  async stopTo(file: string): Promise<void> {
    const { profile } = (await this.call('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
  }

  close(): void {
    this.ws.close();
  }

  private call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
}

/**
 * A profile of the first `seconds` of the measurement window (or of the whole window, if shorter),
 * written to `file`; `finish` (at the window's end) stops it if still running and waits for it.
 */
export async function profileWindow(inspectorUrl: string, seconds: number, file: string): Promise<{ finish(): Promise<void> }> {
  const profiler = await InspectorProfiler.connect(inspectorUrl);
  await profiler.start();
  let stopped: Promise<void> | undefined;
  const timer = setTimeout(() => (stopped = profiler.stopTo(file)), seconds * 1000);
  return {
    async finish() {
      clearTimeout(timer);
      stopped ??= profiler.stopTo(file);
      try {
        await stopped;
      } finally {
        profiler.close();
      }
    },
  };
}
