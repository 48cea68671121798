/**
 * The validation extract (src/api/validation/constraints.json) must say what
 * the AWS models in ../shared/spec/models say. Regenerate with
 * `npx tsx scripts/gen-constraints.ts` when this fails.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { buildConstraints, CONSTRAINTS_FILE, MODEL_DIR } from '../scripts/gen-constraints';

it('the constraints extract matches the AWS service models', () => {
  if (!fs.existsSync(MODEL_DIR)) throw new Error(`AWS models not found at ${MODEL_DIR}: this test needs ../shared/spec/models beside the checkout (or SAGEBOX_AWS_MODELS pointing at them)`);
  const fresh = buildConstraints(MODEL_DIR);
  const stored = JSON.parse(fs.readFileSync(CONSTRAINTS_FILE, 'utf8'));
  assert.deepEqual(stored, JSON.parse(JSON.stringify(fresh)), 'constraints.json is stale: run npx tsx scripts/gen-constraints.ts');
});
