// One reading of the three CPU and memory figures a run reports (the gateway's, the generator's,
// the machine's), and the percentages between two readings.
import { cpus } from 'node:os';
import { cpuPercent, machinePercent, sampleMachine, sampleProcess, type MachineSample, type ProcSample } from './proc-stats.js';

export interface Reading {
  gateway: ProcSample | undefined;
  generator: ProcSample | undefined;
  machine: MachineSample | undefined;
}

export interface Usage {
  /** In % of one core. */
  gatewayCpuPercent: number | undefined;
  generatorCpuPercent: number | undefined;
  /** All cores together, in % of one core (200% is a busy 2-core machine). */
  machineCpuPercent: number | undefined;
  /** What neither the gateway nor the generator used: other work on a shared machine. */
  otherCpuPercent: number | undefined;
}

export class Sampler {
  readonly cores = cpus().length;

  /** `gatewayPid` undefined: a running gateway whose process is not known. */
  constructor(private readonly gatewayPid: number | undefined) {}

  read(): Reading {
    return {
      gateway: this.gatewayPid === undefined ? undefined : sampleProcess(this.gatewayPid),
      generator: sampleProcess(process.pid),
      machine: sampleMachine(),
    };
  }

  usage(from: Reading, to: Reading): Usage {
    const gatewayCpuPercent = from.gateway && to.gateway ? cpuPercent(from.gateway, to.gateway) : undefined;
    const generatorCpuPercent = from.generator && to.generator ? cpuPercent(from.generator, to.generator) : undefined;
    const machineCpuPercent = from.machine && to.machine ? machinePercent(from.machine, to.machine, this.cores) : undefined;
    const otherCpuPercent = machineCpuPercent === undefined ? undefined : Math.max(0, machineCpuPercent - (gatewayCpuPercent ?? 0) - (generatorCpuPercent ?? 0));
    return { gatewayCpuPercent, generatorCpuPercent, machineCpuPercent, otherCpuPercent };
  }
}
