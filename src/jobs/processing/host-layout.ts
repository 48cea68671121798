/**
 * Where one host's /opt/ml directories live in the job's work directory:
 *   <work>/<host>/config     -> /opt/ml/config      (processingjobconfig.json, resourceconfig.json)
 *   <work>/<host>/output     -> /opt/ml/output      (the message file)
 *   <work>/<host>/processing -> /opt/ml/processing  (inputs staged and outputs written below it)
 * One mount for the whole /opt/ml/processing tree keeps nested LocalPaths
 * (an input at .../input and another at .../input/code) working.
 */
import * as path from 'node:path';
import type { Mount } from '../../runtime/container-runtime';
import { PROCESSING } from '../../contract/paths';

export interface HostLayout {
  host: string;
  root: string;
  configDir: string;
  outputDir: string;
  processingDir: string;
}

export function hostLayout(workDir: string, host: string): HostLayout {
  const root = path.join(workDir, host);
  return { host, root, configDir: path.join(root, 'config'), outputDir: path.join(root, 'output'), processingDir: path.join(root, 'processing') };
}

/** The host directory behind a container path under /opt/ml/processing/ (already normalised by the request checks). */
export function hostPathOf(layout: HostLayout, containerPath: string): string {
  const rel = path.posix.relative(PROCESSING.root, containerPath);
  if (rel === '' || rel.startsWith('..') || path.posix.isAbsolute(rel)) throw new Error(`${containerPath} is not under ${PROCESSING.root}`);
  return path.join(layout.processingDir, ...rel.split('/'));
}

export function messageFileOf(layout: HostLayout): string {
  return path.join(layout.outputDir, path.posix.basename(PROCESSING.messageFile));
}

/** /opt/ml/output/failure, which training containers write and some processing containers do too. */
export function failureFileOf(layout: HostLayout): string {
  return path.join(layout.outputDir, 'failure');
}

export function mountsOf(layout: HostLayout): Mount[] {
  return [
    { source: layout.configDir, target: PROCESSING.configDir },
    { source: layout.outputDir, target: PROCESSING.outputDir },
    { source: layout.processingDir, target: PROCESSING.root.replace(/\/$/, '') },
  ];
}
