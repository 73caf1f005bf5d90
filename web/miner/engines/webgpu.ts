import { withNonce } from '../../../protocol/header.js';
import { sha256d } from '../../../protocol/sha256.js';
import { hashValue } from '../../../protocol/target.js';
import { checkScanRange, NONCE_SPACE, type HashEngine, type ScanJob, type ScanResult } from '../engine.js';
import { JOB_UNIFORM_WORDS, packJobUniform } from './webgpu-job.js';

export interface WebGpuEngineOptions {
  /** The text of shaders/sha256d-scan.wgsl (the platform layer loads it: fs in Node, ?raw in Vite). */
  shaderSource: string;
  /**
   * Nonces per dispatch. Smaller keeps each dispatch short, so a page stays smooth; larger spreads
   * the per-dispatch cost (submit, readback) over more hashes. Measured on an NVIDIA H200 in Node:
   * 5.0 GH/s at 2^20, 6.3 at 2^24, 6.6 at 2^26.
   */
  batchSize?: number;
  /**
   * When set, the batch adapts so that one dispatch lasts about this long (8 ms keeps a page
   * smooth whatever the GPU), between 1024 nonces and batchSize.
   */
  targetDispatchMs?: number;
  /**
   * The engine owns the device: dispose() destroys it too, once the scan in flight has read its
   * batches back (destroying a device under a pending mapAsync fails that scan).
   */
  ownsDevice?: boolean;
  /** Threads per workgroup (the kernel's WORKGROUP_SIZE override). */
  workgroupSize?: number;
  /** Found-nonce slots per dispatch. A dispatch that finds more is rescanned in smaller pieces. */
  resultCapacity?: number;
}

export const DEFAULT_BATCH_SIZE = 1 << 20;
export const DEFAULT_WORKGROUP_SIZE = 64;
export const DEFAULT_RESULT_CAPACITY = 1024;
const MIN_ADAPTIVE_BATCH = 1024;
/** Largest batch: the dispatch's nonce count and thread index are u32 in the kernel. */
export const MAX_BATCH_SIZE = 2 ** 31;
/**
 * Dispatches in flight: while the host reads one batch back the GPU already runs the next, so the
 * readback does not leave it idle. A third measured no faster on an NVIDIA H200 (5.1 GH/s at
 * batch 2^20 either way) and would queue more GPU work ahead of the page's own.
 */
const IN_FLIGHT = 2;

/** The buffers of one in-flight dispatch, allocated once and reused for every batch. */
interface Slot {
  span: GPUBuffer;
  found: GPUBuffer;
  readback: GPUBuffer;
  bindGroup: GPUBindGroup;
}

interface Batch {
  slot: Slot;
  base: number;
  count: number;
  mapped: Promise<void>;
}

function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** A HashEngine running shaders/sha256d-scan.wgsl on `device`. Isomorphic: no Node or DOM APIs. */
export function createWebGpuEngine(device: GPUDevice, options: WebGpuEngineOptions): HashEngine {
  return new WebGpuEngine(device, options);
}

class WebGpuEngine implements HashEngine {
  readonly name = 'webgpu' as const;
  readonly hardware: string;
  private batchSize: number;
  private readonly maxBatchSize: number;
  private readonly targetDispatchMs: number | undefined;
  private readonly ownsDevice: boolean;
  private readonly workgroupSize: number;
  private readonly capacity: number;
  private readonly jobBuffer: GPUBuffer;
  private readonly slots: Slot[];
  /** Compiles the kernel and creates the slots; rejects (for every later call) if the WGSL fails. */
  private readonly init: Promise<void>;
  private pipeline: GPUComputePipeline | undefined;
  private readonly spanWords = new Uint32Array(4);
  private job: ScanJob | undefined;
  private disposed = false;
  /** setJob and scan run one after another: a job must not change under a scan's later batches. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly device: GPUDevice,
    options: WebGpuEngineOptions,
  ) {
    if (typeof options.shaderSource !== 'string' || options.shaderSource.length === 0) {
      throw new TypeError('shaderSource must be the WGSL text of shaders/sha256d-scan.wgsl');
    }
    const info = device.adapterInfo as GPUAdapterInfo | undefined;
    this.hardware = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : 'unknown adapter';
    const limits = device.limits;
    this.maxBatchSize = checkIntegerOption('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
    this.targetDispatchMs = options.targetDispatchMs;
    this.ownsDevice = options.ownsDevice ?? false;
    // Adaptive batches start small and grow to the target; fixed ones are the size given.
    this.batchSize = this.targetDispatchMs === undefined ? this.maxBatchSize : Math.min(this.maxBatchSize, MIN_ADAPTIVE_BATCH);
    const maxGroup = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
    this.workgroupSize = checkIntegerOption('workgroupSize', options.workgroupSize ?? DEFAULT_WORKGROUP_SIZE, 1, maxGroup);
    const maxCapacity = Math.floor(limits.maxStorageBufferBindingSize / 4) - 1;
    this.capacity = checkIntegerOption('resultCapacity', options.resultCapacity ?? DEFAULT_RESULT_CAPACITY, 1, maxCapacity);

    this.jobBuffer = device.createBuffer({
      label: 'sha256d job',
      size: JOB_UNIFORM_WORDS * 4,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.slots = [];
    this.init = compilePipeline(device, options.shaderSource, this.workgroupSize).then((pipeline) => {
      if (this.disposed) return; // disposed while compiling: create nothing that would leak
      this.pipeline = pipeline;
      for (let i = 0; i < IN_FLIGHT; i++) this.slots.push(this.createSlot(pipeline, i));
    });
    // The error is delivered to setJob and scan; this only keeps it from being "unhandled" before.
    this.init.catch(() => undefined);
  }

  setJob(job: ScanJob): Promise<void> {
    // Validate and pack now, so that a bad job is reported to this call and not to a later scan.
    const uniform = packJobUniform(job.header, job.target);
    const copy: ScanJob = { header: Uint8Array.from(job.header), target: job.target };
    return this.serialize(async () => {
      this.checkLive();
      this.device.queue.writeBuffer(this.jobBuffer, 0, uniform);
      this.job = copy;
    });
  }

  async scan(nonceStart: number, count: number): Promise<ScanResult> {
    checkScanRange(nonceStart, count);
    return this.serialize(async () => {
      this.checkLive();
      const job = this.job;
      if (!job) throw new Error('webgpu engine: setJob must be called before scan');
      const reported: number[] = [];
      const pending: Batch[] = [];
      let offset = 0;
      let next = 0;
      // After dispose no new batch is submitted; the ones in flight are read back before the
      // buffers go, so a Stop mid-scan ends cleanly with what was hashed.
      while ((offset < count && !this.disposed) || pending.length > 0) {
        while (offset < count && !this.disposed && pending.length < this.slots.length) {
          const size = Math.min(this.batchSize, count - offset);
          pending.push(this.submit(this.slots[next]!, (nonceStart + offset) % NONCE_SPACE, size));
          next = (next + 1) % this.slots.length;
          offset += size;
        }
        const batch = pending.shift()!;
        const before = performance.now();
        await this.collect(batch, reported);
        this.adapt(batch.count, performance.now() - before);
      }
      return { nonces: verify(job, nonceStart, offset, reported), scanned: offset };
    });
  }

  /**
   * With two dispatches in flight, the wait for one is about the GPU time of one: resize the next
   * batches (powers of two) so that it nears targetDispatchMs.
   */
  private adapt(size: number, waitedMs: number): void {
    if (this.targetDispatchMs === undefined || size < this.batchSize) return;
    const ideal = (size * this.targetDispatchMs) / Math.max(waitedMs, 0.05);
    const next = 2 ** Math.floor(Math.log2(Math.max(ideal, 1)));
    this.batchSize = Math.min(this.maxBatchSize, Math.max(MIN_ADAPTIVE_BATCH, Math.min(next, this.batchSize * 4)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Destroyed once the scan in flight (if any) has read its batches back: destroying a buffer
    // under a pending mapAsync would fail that scan. The device goes too when the engine owns it.
    void this.queue.then(() => {
      this.jobBuffer.destroy();
      for (const slot of this.slots) {
        slot.span.destroy();
        slot.found.destroy();
        slot.readback.destroy();
      }
      if (this.ownsDevice) this.device.destroy();
    });
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      await this.init;
      return op();
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private checkLive(): void {
    if (this.disposed) throw new Error('webgpu engine: disposed');
  }

  private createSlot(pipeline: GPUComputePipeline, index: number): Slot {
    const foundBytes = 4 * (1 + this.capacity);
    const span = this.device.createBuffer({
      label: `sha256d span ${index}`,
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const found = this.device.createBuffer({
      label: `sha256d found ${index}`,
      size: foundBytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const readback = this.device.createBuffer({
      label: `sha256d readback ${index}`,
      size: foundBytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.jobBuffer } },
        { binding: 1, resource: { buffer: span } },
        { binding: 2, resource: { buffer: found } },
      ],
    });
    return { span, found, readback, bindGroup };
  }

  /** Queues one dispatch of `count` nonces from `base` and the copy of its results for reading. */
  private submit(slot: Slot, base: number, count: number): Batch {
    this.checkLive();
    this.spanWords[0] = base;
    this.spanWords[1] = count;
    this.device.queue.writeBuffer(slot.span, 0, this.spanWords);
    const groups = Math.ceil(count / this.workgroupSize);
    const maxPerDimension = this.device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, maxPerDimension);
    const y = Math.ceil(groups / x);
    const encoder = this.device.createCommandEncoder({ label: 'sha256d scan' });
    encoder.clearBuffer(slot.found, 0, 4); // the counter; stale nonces past it are never read
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline!);
    pass.setBindGroup(0, slot.bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    encoder.copyBufferToBuffer(slot.found, 0, slot.readback, 0, slot.found.size);
    this.device.queue.submit([encoder.finish()]);
    return { slot, base, count, mapped: slot.readback.mapAsync(GPUMapMode.READ) };
  }

  /**
   * Reads one batch's nonces into `out`. If the batch found more than the capacity, the counter
   * says how many, and the batch is rescanned in pieces sized to find about half the capacity
   * each; a piece that still overflows is split again, and a piece no larger than the capacity
   * cannot overflow, so this ends and drops nothing.
   */
  private async collect(batch: Batch, out: number[]): Promise<void> {
    await batch.mapped;
    const words = new Uint32Array(batch.slot.readback.getMappedRange());
    const total = words[0]!;
    const overflow = total > this.capacity;
    if (!overflow) for (let i = 1; i <= total; i++) out.push(words[i]!);
    batch.slot.readback.unmap();
    if (!overflow) return;
    const piece = Math.max(1, Math.floor((batch.count * this.capacity) / (2 * total)));
    for (let done = 0; done < batch.count; done += piece) {
      const size = Math.min(piece, batch.count - done);
      await this.collect(this.submit(batch.slot, (batch.base + done) % NONCE_SPACE, size), out);
    }
  }
}

/** Compiles the kernel; a WGSL error is reported with the compiler's messages, not just "invalid". */
async function compilePipeline(device: GPUDevice, code: string, workgroupSize: number): Promise<GPUComputePipeline> {
  // The error scope turns a WGSL error into this engine's error instead of an uncaptured device error.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'sha256d-scan.wgsl', code });
  const moduleError = await device.popErrorScope();
  if (moduleError) throw new Error(`webgpu engine: the sha256d kernel did not compile: ${moduleError.message}`);
  try {
    return await device.createComputePipelineAsync({
      label: 'sha256d scan',
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } },
    });
  } catch (error) {
    throw new Error(`webgpu engine: the sha256d kernel did not compile: ${String(error)}`);
  }
}

/**
 * Re-checks every nonce the GPU reported with protocol's sha256d and returns them in scan order.
 * A nonce that fails, lies outside the range or comes twice means a faulty GPU or driver: the
 * engine stops with an error rather than hand a bad share to the pool.
 */
function verify(job: ScanJob, nonceStart: number, count: number, reported: number[]): number[] {
  const position = (nonce: number): number => (nonce - nonceStart + NONCE_SPACE) % NONCE_SPACE;
  const seen = new Set<number>();
  for (const nonce of reported) {
    if (position(nonce) >= count) throw new Error(`webgpu engine: GPU reported nonce ${nonce} outside the scanned range`);
    if (seen.has(nonce)) throw new Error(`webgpu engine: GPU reported nonce ${nonce} twice`);
    seen.add(nonce);
    if (hashValue(sha256d(withNonce(job.header, nonce))) > job.target) {
      throw new Error(`webgpu engine: GPU reported nonce ${nonce} whose hash is above the target`);
    }
  }
  return [...seen].sort((a, b) => position(a) - position(b));
}
