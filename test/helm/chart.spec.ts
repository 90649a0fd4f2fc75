import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { ENVIRONMENT_VARIABLES, environmentSchema, parseEnvironment } from '../../src/config/environment.js';
import {
  chartPath,
  findManifest,
  isHook,
  lintChart,
  namespace,
  renderChart,
  renderNotes,
  templateChart,
  validateWithKubernetesModel,
  type Manifest,
} from './chart-manifests.js';
import { repositoryRoot } from './helm-binary.js';

// The chart is checked against the service's own configuration schema: the variable list,
// their types and bounds, and the boot validation (parseEnvironment) all come from
// src/config/environment.ts, so a variable added there fails these tests until the chart
// mirrors it (a key in values.yaml, its entry in values.schema.json, a README row).

const productionValues = join(repositoryRoot, 'test/helm/production-values.yaml');
const minimalValues = join(repositoryRoot, 'test/helm/values/minimal.yaml');
const wrongTypeValues = join(repositoryRoot, 'test/helm/values/wrong-type.yaml');
const unknownExecutorValues = join(repositoryRoot, 'test/helm/values/unknown-executor.yaml');

const minimal = parse(readFileSync(minimalValues, 'utf8')) as { secret: { databaseUrl: string; adminToken: string } };
const chartValues = parse(readFileSync(join(chartPath, 'values.yaml'), 'utf8')) as Record<string, unknown> & {
  config: Record<string, unknown>;
  secret: Record<string, unknown>;
};
const valuesSchema = JSON.parse(readFileSync(join(chartPath, 'values.schema.json'), 'utf8')) as JsonSchema;
const chartReadme = readFileSync(join(chartPath, 'README.md'), 'utf8');

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

interface EnvironmentEntry {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvironmentEntry[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
}

interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; emptyDir?: Record<string, unknown> }[];
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  restartPolicy?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: { matchLabels?: Record<string, string> } }[];
}

interface Workload extends Manifest {
  spec: { replicas?: number; selector?: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

const camelCase = (name: string): string => name.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
const secretVariables = ENVIRONMENT_VARIABLES.filter((variable) => variable.secret);
const plainVariables = ENVIRONMENT_VARIABLES.filter((variable) => !variable.secret);
const configSchema = (name: string): JsonSchema | undefined => valuesSchema.properties?.config.properties?.[camelCase(name)];
const secretSchema = (name: string): JsonSchema | undefined => valuesSchema.properties?.secret.properties?.[camelCase(name)];
const typesOf = (schema: JsonSchema): string[] => (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []);
const firstExample = (schema: JsonSchema | undefined): unknown => schema?.examples?.[0];

const deploymentOf = (manifests: Manifest[]) => findManifest(manifests, 'Deployment') as Workload;
const jobOf = (manifests: Manifest[]) => findManifest(manifests, 'Job') as Workload;
const containerOf = (workload: Workload): Container => workload.spec.template.spec.containers[0];
const environmentOf = (workload: Workload): EnvironmentEntry[] => containerOf(workload).env ?? [];
const entryOf = (workload: Workload, name: string): EnvironmentEntry | undefined => environmentOf(workload).find((entry) => entry.name === name);

/** The container environment as the kubelet would build it, secrets read from rendered Secrets or `external`. */
function resolveEnvironment(workload: Workload, manifests: Manifest[], external: Record<string, Record<string, string>> = {}): Record<string, string> {
  const secrets = new Map<string, Record<string, string>>(Object.entries(external));
  for (const manifest of manifests.filter((candidate) => candidate.kind === 'Secret')) {
    secrets.set(manifest.metadata.name, manifest.stringData as Record<string, string>);
  }
  const environment: Record<string, string> = {};
  for (const entry of environmentOf(workload)) {
    if (entry.value !== undefined) {
      environment[entry.name] = entry.value;
    } else if (entry.valueFrom?.secretKeyRef) {
      const { name, key } = entry.valueFrom.secretKeyRef;
      const value = secrets.get(name)?.[key];
      if (value === undefined) throw new Error(`${entry.name}: Secret ${name} has no key ${key}`);
      environment[entry.name] = value;
    }
  }
  return environment;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Values files layered the way helm coalesces them: maps merge, anything else replaces. */
function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = isPlainObject(value) && isPlainObject(base[key]) ? mergeValues(base[key], value) : value;
  }
  return merged;
}

function expectValidManifests(manifests: Manifest[]): void {
  expect(manifests.length).toBeGreaterThan(0);
  for (const manifest of manifests) {
    if (manifest.kind === 'ServiceMonitor') continue; // no kubernetes-models class: checked by hand below
    expect(() => validateWithKubernetesModel(manifest), `${manifest.kind} ${manifest.metadata.name}`).not.toThrow();
  }
}

function expectHardenedPod(workload: Workload): void {
  const pod = workload.spec.template.spec;
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
  for (const container of pod.containers) {
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmpMount = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
    expect(tmpMount, `${container.name} mounts /tmp`).toBeDefined();
    const tmpVolume = pod.volumes?.find((volume) => volume.name === tmpMount?.name);
    expect(tmpVolume?.emptyDir, '/tmp is an emptyDir').toBeDefined();
  }
}

const drainTimeoutDefault = (environmentSchema.shape.DRAIN_TIMEOUT_MS.parse(undefined) as number);

describe('helm lint --strict', () => {
  it('passes with the chart defaults', () => {
    const result = lintChart();
    expect(result.stdout + result.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('passes with the production-like values', () => {
    const result = lintChart({ valuesFiles: [productionValues] });
    expect(result.stdout + result.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('passes with the minimal values', () => {
    expect(lintChart({ valuesFiles: [minimalValues] }).status).toBe(0);
  });
});

describe('helm template with the defaults alone', () => {
  it('stops and names every required value (bucket, database URL, admin token)', () => {
    const result = templateChart();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('config.storageUrl is required');
    expect(result.stderr).toContain('secret.databaseUrl (or secret.existingSecret) is required');
    expect(result.stderr).toContain('secret.adminToken (or secret.existingSecret) is required');
  });
});

describe('helm template with the defaults plus the required values (chart-created Secret)', () => {
  let manifests: Manifest[];
  let deployment: Workload;
  let job: Workload;

  beforeAll(() => {
    manifests = renderChart({ valuesFiles: [minimalValues] });
    deployment = deploymentOf(manifests);
    job = jobOf(manifests);
  });

  it('renders only objects that are valid Kubernetes objects', () => {
    expectValidManifests(manifests);
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Job', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'ServiceAccount'].sort(),
    );
  });

  it('probes /health/live and /health/ready on the http port, which is PORT', () => {
    const container = containerOf(deployment);
    expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    const port = container.ports?.find((candidate) => candidate.name === 'http');
    expect(String(port?.containerPort)).toBe(entryOf(deployment, 'PORT')?.value);
    const service = findManifest(manifests, 'Service') as Manifest & { spec: { ports: { targetPort: string }[] } };
    expect(service.spec.ports[0].targetPort).toBe('http');
  });

  it('runs the daemon with migrations off and in production mode', () => {
    expect([...(containerOf(deployment).command ?? []), ...(containerOf(deployment).args ?? [])]).toEqual(['node', 'dist/main.js', 'serve']);
    expect(entryOf(deployment, 'MIGRATE_ON_START')?.value).toBe('false');
    expect(entryOf(deployment, 'NODE_ENV')?.value).toBe('production');
  });

  it('migrates in a pre-install,pre-upgrade hook Job that runs `migrate`', () => {
    expect(job.metadata.annotations?.['helm.sh/hook']?.split(',').sort()).toEqual(['pre-install', 'pre-upgrade']);
    expect(job.metadata.annotations?.['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
    const container = containerOf(job);
    expect([...(container.command ?? []), ...(container.args ?? [])]).toEqual(['node', 'dist/main.js', 'migrate']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(resolveEnvironment(job, manifests).DATABASE_URL).toBe(minimal.secret.databaseUrl);
  });

  it("gives the hook Job a hook copy of the Secret, created before it: the release's Secret does not exist yet on a first install", () => {
    const hookSecret = findManifest(manifests, 'Secret', isHook);
    const releaseSecret = findManifest(manifests, 'Secret', (manifest) => !isHook(manifest));
    expect(hookSecret.metadata.annotations?.['helm.sh/hook']).toBe(job.metadata.annotations?.['helm.sh/hook']);
    expect(Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations?.['helm.sh/hook-weight']));
    expect(hookSecret.stringData).toEqual(releaseSecret.stringData);
    expect(entryOf(job, 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(hookSecret.metadata.name);
  });

  it('hardens the pods: non-root, read-only root filesystem, no privilege escalation, no capabilities, /tmp on an emptyDir', () => {
    expectHardenedPod(deployment);
    expectHardenedPod(job);
  });

  it('reads DATABASE_URL and ADMIN_TOKEN from the Secret the chart creates, never as plain values', () => {
    const secret = findManifest(manifests, 'Secret', (manifest) => !isHook(manifest));
    for (const variable of secretVariables) {
      const entry = entryOf(deployment, variable.name);
      expect(entry?.value, variable.name).toBeUndefined();
      expect(entry?.valueFrom?.secretKeyRef?.name, variable.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData as object)).toContain(entry?.valueFrom?.secretKeyRef?.key);
    }
    expect(resolveEnvironment(deployment, manifests)).toMatchObject({
      DATABASE_URL: minimal.secret.databaseUrl,
      ADMIN_TOKEN: minimal.secret.adminToken,
    });
    expect(deployment.spec.template.metadata.annotations?.['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sets an environment the service's own boot validation accepts, for the daemon and the migration Job", () => {
    for (const workload of [deployment, job]) {
      const environment = parseEnvironment(resolveEnvironment(workload, manifests));
      expect(environment.NODE_ENV).toBe('production');
      expect(environment.DATABASE_URL).toBe(minimal.secret.databaseUrl);
      expect(environment.STORAGE_URL).toBe('gs://tweets-archive/tweets/');
    }
  });

  it('gives the pod longer to stop than the drain timeout', () => {
    const drainMs = Number(entryOf(deployment, 'DRAIN_TIMEOUT_MS')?.value);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainMs / 1000);
  });

  it('selects only the daemon pods in the Service, the PodDisruptionBudget and the topology spread, never the migration pods', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const jobLabels = job.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    const service = findManifest(manifests, 'Service') as Manifest & { spec: { selector: Record<string, string> } };
    const budget = findManifest(manifests, 'PodDisruptionBudget') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    const spread = deployment.spec.template.spec.topologySpreadConstraints ?? [];
    expect(spread.map((constraint) => constraint.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const selector of [
      service.spec.selector,
      budget.spec.selector.matchLabels,
      deployment.spec.selector?.matchLabels ?? {},
      ...spread.map((constraint) => constraint.labelSelector?.matchLabels ?? {}),
    ]) {
      expect(matches(selector, podLabels)).toBe(true);
      expect(matches(selector, jobLabels)).toBe(false);
    }
  });

  it('tells in NOTES.txt how to start a backfill with curl', () => {
    const notes = renderNotes({ valuesFiles: [minimalValues] });
    expect(notes).toContain(`port-forward service/${deployment.metadata.name}`);
    expect(notes).toContain('curl -s -X POST http://localhost:3000/backfills');
    expect(notes).toContain('Authorization: Bearer $ADMIN_TOKEN');
    expect(notes).toContain(`{"months":["2017-08","2017-09"]}`);
    expect(notes).toContain(`{.data.ADMIN_TOKEN}`);
  });
});

describe('helm template with an existing Secret', () => {
  it('creates no Secret and points the daemon and the migration Job at the existing one', () => {
    const manifests = renderChart({ values: { config: { storageUrl: 'gs://tweets-archive' }, secret: { existingSecret: 'managed-elsewhere' } } });
    expectValidManifests(manifests);
    expect(manifests.filter((manifest) => manifest.kind === 'Secret')).toEqual([]);
    for (const workload of [deploymentOf(manifests), jobOf(manifests)]) {
      for (const variable of secretVariables) {
        expect(entryOf(workload, variable.name)?.valueFrom?.secretKeyRef, variable.name).toEqual({ name: 'managed-elsewhere', key: variable.name });
      }
    }
    expect(deploymentOf(manifests).spec.template.metadata.annotations?.['checksum/secret']).toBeUndefined();
  });
});

describe('helm template with the production-like values', () => {
  let manifests: Manifest[];
  let deployment: Workload;

  beforeAll(() => {
    manifests = renderChart({ valuesFiles: [productionValues] });
    deployment = deploymentOf(manifests);
  });

  it('renders only valid Kubernetes objects, with the autoscaler and the ServiceMonitor', () => {
    expectValidManifests(manifests);
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
    );
  });

  it('lets the autoscaler own the replica count', () => {
    const autoscaler = findManifest(manifests, 'HorizontalPodAutoscaler') as Manifest & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } };
    expect(autoscaler.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(autoscaler.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('renders a ServiceMonitor that scrapes /metrics on the Service http port', () => {
    const monitor = findManifest(manifests, 'ServiceMonitor') as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string; interval: string }[] };
    };
    const service = findManifest(manifests, 'Service') as Manifest & { spec: { ports: { name: string }[] } };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
      expect(service.metadata.labels?.[key]).toBe(value);
    }
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([namespace]);
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
    expect(service.spec.ports.map((port) => port.name)).toContain('http');
  });

  it('annotates the ServiceAccount for Workload Identity and runs the daemon under it', () => {
    const account = findManifest(manifests, 'ServiceAccount');
    expect(account.metadata.annotations?.['iam.gke.io/gcp-service-account']).toBe('tweet-ingest@acme-data.iam.gserviceaccount.com');
    expect(deployment.spec.template.spec.serviceAccountName).toBe(account.metadata.name);
  });

  it('passes node selector, tolerations and affinity to the daemon and the migration Job', () => {
    for (const workload of [deployment, jobOf(manifests)]) {
      const pod = workload.spec.template.spec;
      expect(pod.nodeSelector).toEqual({ 'cloud.google.com/gke-nodepool': 'ingest' });
      expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'ingest', effect: 'NoSchedule' }]);
      expect(pod.affinity).toHaveProperty('nodeAffinity');
    }
  });

  it('derives the grace period from the longer drain timeout, and the service accepts the environment', () => {
    expect(entryOf(deployment, 'DRAIN_TIMEOUT_MS')?.value).toBe('120000');
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(135);
    const external = { 'tweet-ingest-secrets': { DATABASE_URL: 'postgres://u:p@db:5432/tweets', ADMIN_TOKEN: 'x'.repeat(32) } };
    const environment = parseEnvironment(resolveEnvironment(deployment, manifests, external));
    expect(environment).toMatchObject({ NODE_ENV: 'production', MIGRATE_ON_START: false, EXECUTOR_SIZE: 4, PUBSUB_SUBSCRIPTION: 'projects/acme-data/subscriptions/tweet-files-ingest' });
    expect(entryOf(deployment, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=4096');
  });

  it('puts the Grafana dashboard in the monitoring namespace with the sidecar label', () => {
    const dashboard = findManifest(manifests, 'ConfigMap');
    expect(dashboard.metadata.namespace).toBe('monitoring');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(dashboard.metadata.annotations?.grafana_folder).toBe('Data pipelines');
  });
});

describe('every environment variable of the service (from src/config/environment.ts)', () => {
  // Each variable set to its example from values.schema.json: a value other than the chart's
  // default, so finding it in the rendered env proves it flowed from values.yaml.
  const everyVariable = {
    config: Object.fromEntries(plainVariables.map((variable) => [camelCase(variable.name), firstExample(configSchema(variable.name))])),
    secret: Object.fromEntries(secretVariables.map((variable) => [camelCase(variable.name), firstExample(secretSchema(variable.name))])),
  };

  it('is mirrored in values.yaml: config.<camelCase> for plain ones, secret.<camelCase> for secrets, and nothing stale', () => {
    for (const variable of plainVariables) {
      expect(Object.hasOwn(chartValues.config, camelCase(variable.name)), `config.${camelCase(variable.name)} for ${variable.name}`).toBe(true);
    }
    for (const variable of secretVariables) {
      expect(Object.hasOwn(chartValues.secret, camelCase(variable.name)), `secret.${camelCase(variable.name)} for ${variable.name}`).toBe(true);
      expect(Object.hasOwn(chartValues.config, camelCase(variable.name)), `${variable.name} must not be a plain config value`).toBe(false);
    }
    expect(Object.keys(chartValues.config).sort()).toEqual(plainVariables.map((variable) => camelCase(variable.name)).sort());
  });

  it("has a schema in values.schema.json that the service's schema agrees with (types, enums, bounds, examples)", () => {
    const ajv = new Ajv({ strict: false });
    const output = z.toJSONSchema(environmentSchema, { io: 'output', unrepresentable: 'any' }).properties as Record<string, JsonSchema>;
    const input = z.toJSONSchema(environmentSchema, { io: 'input', unrepresentable: 'any' }).properties as Record<string, JsonSchema>;
    expect(Object.keys(valuesSchema.properties?.config.properties ?? {}).sort()).toEqual(Object.keys(chartValues.config).sort());

    for (const variable of ENVIRONMENT_VARIABLES) {
      const chart = variable.secret ? secretSchema(variable.name) : configSchema(variable.name);
      expect(chart, `schema of ${variable.name}`).toBeDefined();
      if (!chart) continue;
      const service = output[variable.name];
      const types = typesOf(chart);
      if (input[variable.name].enum?.includes('true')) {
        expect(types, variable.name).toContain('boolean');
      } else if (service.type === 'integer') {
        expect(types, variable.name).toContain('integer');
        // Anything the chart accepts, the service accepts: the chart may only narrow.
        expect(chart.minimum, variable.name).toBeGreaterThanOrEqual(service.minimum ?? -Infinity);
        expect(chart.maximum, variable.name).toBeLessThanOrEqual(service.maximum ?? Infinity);
      } else if (service.enum) {
        expect((chart.enum ?? []).filter((value) => value !== null).sort(), variable.name).toEqual([...service.enum].sort());
      } else {
        expect(types, variable.name).toContain('string');
      }

      const example = firstExample(chart);
      expect(example, `example of ${variable.name}`).toBeDefined();
      expect(ajv.validate(chart, example), `${variable.name} example against the chart schema`).toBe(true);
      expect(environmentSchema.shape[variable.name].safeParse(String(example)).success, `${variable.name}=${String(example)} for the service`).toBe(true);
      const chartDefault = variable.secret ? chartValues.secret[camelCase(variable.name)] : chartValues.config[camelCase(variable.name)];
      expect(example, `${variable.name} example differs from the chart default`).not.toEqual(chartDefault);
      if (chartDefault !== null && chartDefault !== '') {
        expect(environmentSchema.shape[variable.name].safeParse(String(chartDefault)).success, `chart default of ${variable.name}`).toBe(true);
      }
    }
  });

  it('is rendered into the Deployment and the migration Job env, with exactly the value set, secrets through the Secret', () => {
    const manifests = renderChart({ values: everyVariable });
    const secret = findManifest(manifests, 'Secret', (manifest) => !isHook(manifest));
    for (const workload of [deploymentOf(manifests), jobOf(manifests)]) {
      expect(environmentOf(workload).map((entry) => entry.name).sort()).toEqual(ENVIRONMENT_VARIABLES.map((variable) => variable.name).sort());
      for (const variable of plainVariables) {
        expect(entryOf(workload, variable.name)?.value, variable.name).toBe(String(everyVariable.config[camelCase(variable.name)]));
      }
      const environment = resolveEnvironment(workload, manifests);
      for (const variable of secretVariables) {
        expect(entryOf(workload, variable.name)?.value, variable.name).toBeUndefined();
        expect(environment[variable.name], variable.name).toBe(everyVariable.secret[camelCase(variable.name)]);
      }
      expect(() => parseEnvironment(environment)).not.toThrow();
    }
    expect(Object.keys(secret.stringData as object).sort()).toEqual(secretVariables.map((variable) => variable.name).sort());
  });

  it('is not rendered when left null or empty: the service applies its own default', () => {
    const deployment = deploymentOf(renderChart({ valuesFiles: [minimalValues] }));
    const unset = Object.entries(chartValues.config)
      .filter(([, value]) => value === null || value === '')
      .map(([key]) => key)
      .filter((key) => key !== 'storageUrl');
    expect(unset.length).toBeGreaterThan(0);
    const rendered = new Set(environmentOf(deployment).map((entry) => entry.name));
    for (const variable of plainVariables.filter((candidate) => unset.includes(camelCase(candidate.name)))) {
      expect(rendered.has(variable.name), variable.name).toBe(false);
    }
  });

  it("derives terminationGracePeriodSeconds from DRAIN_TIMEOUT_MS, falling back to the service's default", () => {
    const cases: [number | null, number][] = [
      [null, drainTimeoutDefault],
      [0, 0],
      [1500, 1500],
      [600_000, 600_000],
    ];
    for (const [configured, effectiveMs] of cases) {
      const deployment = deploymentOf(renderChart({ valuesFiles: [minimalValues], values: { config: { drainTimeoutMs: configured } } }));
      const grace = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 0;
      expect(grace, `drainTimeoutMs=${configured}`).toBeGreaterThan(effectiveMs / 1000);
      expect(grace, `drainTimeoutMs=${configured}`).toBe(Math.ceil(effectiveMs / 1000) + (chartValues.terminationGraceExtraSeconds as number));
    }
  });
});

describe('values.schema.json', () => {
  it('rejects a value of the wrong type in helm lint and helm template', () => {
    for (const result of [lintChart({ valuesFiles: [minimalValues, wrongTypeValues] }), templateChart({ valuesFiles: [minimalValues, wrongTypeValues] })]) {
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/schema/);
      expect(result.stdout + result.stderr).toContain('executorSize');
    }
  });

  it('rejects an unknown executor kind in helm lint and helm template', () => {
    for (const result of [lintChart({ valuesFiles: [minimalValues, unknownExecutorValues] }), templateChart({ valuesFiles: [minimalValues, unknownExecutorValues] })]) {
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('executor');
    }
  });

  it.each([
    ['an unknown top-level key', { replicaCont: 3 }, 'replicaCont'],
    ['a misspelt configuration key', { config: { executerSize: 4 } }, 'executerSize'],
    ['a replica count in words', { replicaCount: 'two' }, 'replicaCount'],
    ['a boolean written as text', { migrations: { enabled: 'yes' } }, 'enabled'],
    ['a short admin token', { secret: { adminToken: 'short' } }, 'adminToken'],
    ['a database URL that is not PostgreSQL', { secret: { databaseUrl: 'mysql://db/tweets' } }, 'databaseUrl'],
  ])('rejects %s', (_, values, path) => {
    const result = templateChart({ valuesFiles: [minimalValues], values });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(path);
  });

  it('accepts the chart defaults and the production-like values with a standard JSON Schema validator too', () => {
    const validate = new Ajv({ strict: false }).compile(valuesSchema);
    const production = parse(readFileSync(productionValues, 'utf8')) as Record<string, unknown>;
    expect(validate(chartValues), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(mergeValues(chartValues, production)), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('the Grafana dashboard', () => {
  // The metric names the service exports with prom-client (issue 4); the dashboard must use
  // exactly these.
  const metrics: Record<string, string | null> = {
    tweet_ingest_files: 'status',
    tweet_ingest_tweets_inserted_total: null,
    tweet_ingest_rejected_records_total: null,
    tweet_ingest_stage_duration_seconds: 'stage',
    tweet_ingest_queue_depth: null,
    tweet_ingest_executor_busy_workers: null,
    tweet_ingest_executor_size: null,
    tweet_ingest_notifications_total: 'outcome',
  };

  it("queries only the service's metrics, every one of them, broken down by their labels", () => {
    const configMap = findManifest(renderChart({ valuesFiles: [minimalValues] }), 'ConfigMap');
    const dashboard = JSON.parse((configMap.data as Record<string, string>)['tweet-ingest.json']) as { panels: { targets: { expr: string }[] }[] };
    const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    const used = new Set(expressions.flatMap((expression) => expression.match(/\btweet_ingest_[a-z_]+/g) ?? []).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    expect([...used].sort()).toEqual(Object.keys(metrics).sort());
    for (const [metric, label] of Object.entries(metrics)) {
      if (!label) continue;
      expect(expressions.some((expression) => expression.includes(metric) && new RegExp(`by \\([^)]*\\b${label}\\b`).test(expression)), `${metric} by ${label}`).toBe(true);
    }
  });
});

describe('the chart README', () => {
  // Maps whose keys are Kubernetes fields passed through as they are: documented as a whole.
  const passedThrough = new Set([
    'resources',
    'podSecurityContext',
    'securityContext',
    'strategy',
    'migrations.resources',
    'probes.startup',
    'probes.liveness',
    'probes.readiness',
    'grafanaDashboard.labels',
    'autoscaling.behavior',
  ]);

  function valuePaths(value: unknown, prefix: string): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0 || passedThrough.has(prefix)) {
      return [prefix];
    }
    return Object.entries(value).flatMap(([key, child]) => valuePaths(child, prefix ? `${prefix}.${key}` : key));
  }

  it('documents every value of values.yaml and every environment variable', () => {
    const undocumented = valuePaths(chartValues, '').filter((path) => !chartReadme.includes(`\`${path}\``));
    expect(undocumented).toEqual([]);
    for (const variable of ENVIRONMENT_VARIABLES) {
      expect(chartReadme, variable.name).toContain(`\`${variable.name}\``);
    }
  });
});
