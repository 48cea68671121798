/**
 * At start-up, after every feature has re-attached what it owns, removes the
 * containers and networks labelled with this sagebox instance that no live
 * resource owns any more (a crash between a job's end and its clean-up, a
 * deleted endpoint, a row that never made it to the database).
 */
import type { Db } from '../store/db';
import { parseOwner } from '../runtime/labels';

export function ownedByLiveResource(db: Db): (labels: Record<string, string>) => boolean {
  const lookup = db.prepare('SELECT status, internal FROM resources WHERE kind = ? AND name_key = ?');
  return (labels) => {
    const owner = parseOwner(labels);
    if (!owner) return false;
    const row = lookup.get(owner.kind, owner.resource.toLowerCase()) as { status: string | null; internal: string } | undefined;
    if (!row) return false;
    // Endpoints manage their own fleets (old fleets after an update are theirs to drain).
    if (owner.kind === 'endpoint') return true;
    const internal = JSON.parse(row.internal) as { phase?: string; attempt?: number };
    if (internal.phase === 'done') return false;
    return owner.attempt === undefined || internal.attempt === undefined || owner.attempt === internal.attempt;
  };
}
