/**
 * CPU and memory of ml.* instance types, used as container limits (capped to
 * what the machine has). Figures are the public EC2 sizes of each family;
 * an unknown type gets no limit. Switch limits off with
 * `enforceInstanceLimits: false` (docs/instance-types.md).
 */
import * as os from 'node:os';

const GiB = 1024 ** 3;
const SIZES: Record<string, number> = { medium: 1, large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32, '9xlarge': 36, '12xlarge': 48, '16xlarge': 64, '18xlarge': 72, '24xlarge': 96, '32xlarge': 128, '48xlarge': 192 };
/** GiB of memory per vCPU by family. */
const MEM_PER_CPU: Record<string, number> = { t2: 2, t3: 2, m4: 4, m5: 4, m5d: 4, m6i: 4, m7i: 4, c4: 1.875, c5: 2, c5d: 2, c5n: 2.625, c6i: 2, c7i: 2, r5: 8, r5d: 8, r6i: 8, r7i: 8, p2: 15.25, p3: 7.625, p4d: 9.6, p5: 10.67, g4dn: 4, g5: 4, g6: 4, inf1: 2, inf2: 4, trn1: 4 };

export interface Limits {
  cpus?: number;
  memoryBytes?: number;
}

export function limitsFor(instanceType: string | undefined, enforce: boolean): Limits {
  if (!enforce || !instanceType) return {};
  const m = /^ml\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceType);
  if (!m) return {};
  const perCpu = MEM_PER_CPU[m[1]!];
  const vcpu = SIZES[m[2]!];
  if (!perCpu || !vcpu) return {};
  const cpus = Math.min(vcpu, os.cpus().length);
  const memoryBytes = Math.min(Math.round(vcpu * perCpu * GiB), Math.floor(os.totalmem() * 0.9));
  return { cpus, memoryBytes };
}
