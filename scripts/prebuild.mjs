#!/usr/bin/env node
// npm run build:prebuild — the prebuilt addon that ships in the npm package.
//
//   prebuildify --napi --strip --tag-libc   →   prebuilds/<platform>-<arch>/durabook.<libc>.node
//
// Built by prebuildify's node-gyp over binding.gyp: the very build the install fallback
// (`"install": "node-gyp-build"`) runs on a machine no prebuild fits, so the two cannot drift.
// The cmake-js build (CMakeLists.txt) stays the developer build.
//
// Why this wrapper rather than a bare `prebuildify` in package.json:
// - prebuildify runs `node-gyp rebuild`, which deletes ./build — the cmake-js developer build.
//   It runs here on a staged copy of the native sources in ./build-prebuild instead.
// - node-gyp must not download Node headers: when npm does not pass a nodedir, the headers of
//   the running node are used if its installation has them (<prefix>/include/node).
// - node-gyp is the one npm bundles unless the project installs its own.
// - it compiles for the running node (target) and checks that the result loads.
//
// Environment: PREBUILD_* variables of prebuildify pass through (PREBUILD_NODE_GYP, PREBUILD_STRIP_BIN…);
// npm_config_nodedir and npm_config_jobs are honoured.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build-prebuild');
const require = createRequire(join(root, 'package.json'));
const env = { ...process.env };

// Node headers: never download them.
if (!env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h')) && existsSync(join(prefix, 'include/node/common.gypi'))) {
    env.npm_config_nodedir = prefix;
  } else {
    console.warn(`prebuild: no Node headers under ${prefix}/include/node and no nodedir set: node-gyp will download them`);
  }
}
env.npm_config_jobs ??= 'max';

// node-gyp: the project's own if it has one, else npm's bundled copy, else whatever is on PATH.
if (!env.PREBUILD_NODE_GYP) {
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  if (env.npm_config_node_gyp) candidates.push(env.npm_config_node_gyp);
  if (env.npm_execpath) candidates.push(resolve(dirname(env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  const found = candidates.find((f) => existsSync(f) && (statSync(f).mode & 0o111) !== 0);
  if (found) env.PREBUILD_NODE_GYP = found;
}

// Stage exactly what the package ships for the fallback build: binding.gyp, package.json and
// native/ without its tests and benchmarks. node_modules resolves from the parent (the root).
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
cpSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
cpSync(join(root, 'package.json'), join(stage, 'package.json'));
cpSync(join(root, 'native'), join(stage, 'native'), {
  recursive: true,
  filter: (src) => !['test', 'bench'].includes(relative(join(root, 'native'), src)),
});

// A stale prebuild of this platform must never ship: clear it first (other platforms' stay).
const outDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(outDir, { recursive: true, force: true });

const prebuildify = require.resolve('prebuildify/bin.js');
const args = [prebuildify, '--napi', '--strip', '--tag-libc', '--target', process.versions.node, '--cwd', stage, '--out', root];
console.log(`prebuild: prebuildify ${args.slice(1).join(' ')}`);
console.log(`prebuild: nodedir=${env.npm_config_nodedir ?? '(download)'} node-gyp=${env.PREBUILD_NODE_GYP ?? 'node-gyp (PATH)'}`);
const run = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`prebuild: prebuildify failed (${run.signal ?? `exit ${run.status}`})`);
  process.exit(1);
}

const built = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.node')) : [];
if (built.length !== 1) {
  console.error(`prebuild: expected one .node file in ${outDir}, found ${JSON.stringify(built)}`);
  process.exit(1);
}
const file = join(outDir, built[0]);
const addon = require(file); // dlopen it: a prebuild that does not load must never ship
if (typeof addon.createEngine !== 'function') {
  console.error(`prebuild: ${file} loaded but exports no createEngine`);
  process.exit(1);
}
rmSync(stage, { recursive: true, force: true });
console.log(`prebuild: ${relative(root, file)} (${statSync(file).size} bytes) loads`);
