/**
 * Extracts the validation facts (types, required members, min/max, patterns,
 * enums) of the operations sagebox implements from the AWS service models in
 * ../shared/spec/models into src/api/validation/constraints.json.
 *
 * Why an extract: the models may not be copied into the project, and a user's
 * machine has no ../shared; validation needs only these facts, for these
 * operations. test/constraints-sync.test.ts fails when the extract drifts
 * from the models. Run: npx tsx scripts/gen-constraints.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPERATIONS } from '../src/api/validation/operations';
import type { ShapeFacts } from '../src/api/validation/types';

export interface Constraints {
  /** Every operation name of each service's model (to tell "not built yet" from "no such operation"). */
  allOperations: Record<string, string[]>;
  operations: Record<string, Record<string, string>>;
  shapes: Record<string, Record<string, ShapeFacts>>;
}

const MODELS: Record<string, string> = {
  sagemaker: 'sagemaker_2017-07-24_service-2.json',
  runtime: 'sagemaker-runtime_2017-05-13_service-2.json',
  logs: 'logs_2014-03-28_service-2.json',
};

export function buildConstraints(modelDir: string): Constraints {
  const out: Constraints = { allOperations: {}, operations: {}, shapes: {} };
  for (const [service, ops] of Object.entries(OPERATIONS)) {
    const file = MODELS[service];
    if (!file) throw new Error(`no model file for ${service}`);
    const model = JSON.parse(fs.readFileSync(path.join(modelDir, file), 'utf8'));
    const shapes: Record<string, ShapeFacts> = {};
    const opInputs: Record<string, string> = {};
    const visit = (name: string): void => {
      if (shapes[name]) return;
      const s = model.shapes[name];
      if (!s) throw new Error(`${service}: unknown shape ${name}`);
      const f: ShapeFacts = { t: s.type };
      if (s.required?.length) f.req = [...s.required];
      if (s.min !== undefined) f.min = s.min;
      if (s.max !== undefined) f.max = s.max;
      if (s.pattern !== undefined) f.pattern = s.pattern;
      if (s.enum) f.enum = [...s.enum];
      shapes[name] = f;
      if (s.type === 'structure') {
        f.m = {};
        for (const [mn, mv] of Object.entries<{ shape: string }>(s.members ?? {})) {
          f.m[mn] = mv.shape;
          visit(mv.shape);
        }
      } else if (s.type === 'list') {
        f.member = s.member.shape;
        visit(s.member.shape);
      } else if (s.type === 'map') {
        f.k = s.key.shape;
        f.v = s.value.shape;
        visit(s.key.shape);
        visit(s.value.shape);
      }
    };
    for (const op of ops) {
      const o = model.operations[op];
      if (!o) throw new Error(`${service}: unknown operation ${op}`);
      if (o.input) {
        opInputs[op] = o.input.shape;
        visit(o.input.shape);
      } else opInputs[op] = '';
    }
    out.allOperations[service] = Object.keys(model.operations).sort();
    out.operations[service] = opInputs;
    out.shapes[service] = Object.fromEntries(Object.entries(shapes).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return out;
}

export const CONSTRAINTS_FILE = path.join(__dirname, '..', 'src', 'api', 'validation', 'constraints.json');
/** The AWS models beside the checkout (../shared), or where SAGEBOX_AWS_MODELS says. */
export const MODEL_DIR = process.env.SAGEBOX_AWS_MODELS ?? path.join(__dirname, '..', '..', 'shared', 'spec', 'models');

if (require.main === module) {
  const c = buildConstraints(process.argv[2] ?? MODEL_DIR);
  fs.writeFileSync(CONSTRAINTS_FILE, JSON.stringify(c) + '\n');
  console.log(`wrote ${CONSTRAINTS_FILE}`);
}
