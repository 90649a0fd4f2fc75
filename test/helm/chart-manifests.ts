import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments, stringify } from 'yaml';
import { repositoryRoot, runHelm, type HelmResult } from './helm-binary.js';

export const chartPath = join(repositoryRoot, 'helm', 'tweet-ingest');
export const releaseName = 'tweet-ingest';
export const namespace = 'ingest';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

// The kinds the chart renders, each with the model that validates it against the
// Kubernetes OpenAPI schema. A kind missing here fails the test instead of going unchecked.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

/** Throws when a manifest does not match the Kubernetes schema of its kind. */
export function validateWithKubernetesModel(manifest: Manifest): void {
  const Model = models[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) {
    throw new Error(`no kubernetes-models class for ${manifest.apiVersion} ${manifest.kind}`);
  }
  new Model(manifest as never).validate();
}

export interface HelmInput {
  /** Values files, relative to the repository or absolute. */
  valuesFiles?: string[];
  /** Values written to a temporary file and passed last (they win). */
  values?: Record<string, unknown>;
  set?: Record<string, string>;
}

function withValues<T>(input: HelmInput, run: (args: string[]) => T): T {
  const args: string[] = [];
  for (const file of input.valuesFiles ?? []) {
    args.push('--values', file);
  }
  let scratch: string | undefined;
  if (input.values) {
    scratch = mkdtempSync(join(tmpdir(), 'tweet-ingest-values-'));
    const file = join(scratch, 'values.yaml');
    // YAML 1.1 quoting: helm reads values as YAML 1.1, where an unquoted yes is a boolean.
    writeFileSync(file, stringify(input.values, { version: '1.1' }));
    args.push('--values', file);
  }
  for (const [key, value] of Object.entries(input.set ?? {})) {
    args.push('--set-string', `${key}=${value}`);
  }
  try {
    return run(args);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

export function lintChart(input: HelmInput = {}): HelmResult {
  return withValues(input, (args) => runHelm(['lint', '--strict', chartPath, ...args]));
}

export function templateChart(input: HelmInput = {}): HelmResult {
  return withValues(input, (args) => runHelm(['template', releaseName, chartPath, '--namespace', namespace, ...args]));
}

/** Renders the chart and parses every document; throws with helm's message on failure. */
export function renderChart(input: HelmInput = {}): Manifest[] {
  const result = templateChart(input);
  if (result.status !== 0) {
    throw new Error(`helm template failed:\n${result.stderr}`);
  }
  return parseAllDocuments(result.stdout)
    .map((document) => {
      if (document.errors.length > 0) {
        throw new Error(`rendered YAML does not parse: ${document.errors[0].message}`);
      }
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

export function findManifest(manifests: Manifest[], kind: string, predicate: (manifest: Manifest) => boolean = () => true): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind && predicate(manifest));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}, found ${found.length}`);
  }
  return found[0];
}

export const isHook = (manifest: Manifest): boolean => manifest.metadata.annotations?.['helm.sh/hook'] !== undefined;

/**
 * Renders templates/NOTES.txt. `helm template` never prints the notes and `helm install
 * --dry-run` needs a cluster, so a scratch copy of the chart wraps the real notes in a
 * ConfigMap that `helm template --show-only` can print.
 */
export function renderNotes(input: HelmInput = {}): string {
  const scratch = mkdtempSync(join(tmpdir(), 'tweet-ingest-notes-'));
  try {
    const copy = join(scratch, 'tweet-ingest');
    cpSync(chartPath, copy, { recursive: true });
    const notes = readFileSync(join(copy, 'templates', 'NOTES.txt'), 'utf8');
    rmSync(join(copy, 'templates', 'NOTES.txt'));
    writeFileSync(join(copy, 'templates', '_notes-under-test.tpl'), `{{- define "notes-under-test" -}}\n${notes}\n{{- end }}\n`);
    writeFileSync(
      join(copy, 'templates', 'notes-under-test.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\ndata:\n  notes: {{ include "notes-under-test" . | toJson }}\n',
    );
    const result = withValues(input, (args) =>
      runHelm(['template', releaseName, copy, '--namespace', namespace, '--show-only', 'templates/notes-under-test.yaml', ...args]),
    );
    if (result.status !== 0) {
      throw new Error(`rendering NOTES.txt failed:\n${result.stderr}`);
    }
    const configMap = parseAllDocuments(result.stdout)[0].toJS() as { data: { notes: string } };
    return configMap.data.notes;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
