// The package as a user gets it: `npm pack` (its prepack script builds dist/ and the prebuild),
// `npm install <tarball>` into a fresh directory, then smoke scripts (.mjs and .cjs) that load
// the packaged prebuild with PREBUILDS_ONLY=1 and a PATH with no compiler, make or python: the
// install and the load cannot have compiled anything. Slow (a native compile + an npm install,
// about 20–60 s): one pack and one install shared by every check below.
//
// The pack runs on a copy of the working tree (tracked and untracked, not ignored, files; the
// project's node_modules linked in), so it never rewrites dist/ or prebuilds/ under the feet of
// other tests or the developer build. npm needs the registry for the package's dependencies.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayLockMemory } from '../support/may-lock-memory.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SETUP_TIMEOUT = 240_000;
const prebuildDir = `prebuilds/${process.platform}-${process.arch}/`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function explain(what: string, r: Run): string {
  return `${what} exited with ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** process.env without the npm_* variables of an enclosing `npm test`, which would steer a nested npm. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function findOnPath(name: string): string | undefined {
  const near = join(dirname(process.execPath), name);
  if (existsSync(near)) return near;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Copies the working tree as git sees it (tracked + untracked, minus ignored files) to dest. */
async function copyWorkingTree(dest: string): Promise<void> {
  const ls = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    env: process.env,
    timeoutMs: 30_000,
  });
  if (ls.code !== 0) throw new Error(explain('git ls-files', ls));
  for (const file of ls.stdout.split('\0')) {
    if (!file || !existsSync(join(root, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(root, file), join(dest, file));
  }
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'), 'dir');
}

let work: string;
let tarball: string;
let contents: string[];
let app: string;
let pkgDir: string;
let smokeEnv: NodeJS.ProcessEnv;
let installLog: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'durabook-pack-'));
  const src = join(work, 'src');
  const packDir = join(work, 'pack');
  app = join(work, 'app');
  mkdirSync(packDir);
  mkdirSync(app);

  // 1. npm pack: prepack runs `npm run build:ts && npm run build:prebuild`.
  await copyWorkingTree(src);
  const pack = await run(findOnPath('npm') ?? 'npm', ['pack', '--pack-destination', packDir], {
    cwd: src,
    env: cleanEnv({}),
    timeoutMs: 150_000,
  });
  if (pack.code !== 0) throw new Error(explain('npm pack', pack));
  const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`expected one tarball in ${packDir}, found ${JSON.stringify(tgz)}`);
  tarball = join(packDir, tgz[0]);
  const list = await run('tar', ['-tzf', tarball], { cwd: work, env: process.env, timeoutMs: 30_000 });
  if (list.code !== 0) throw new Error(explain('tar -tzf', list));
  contents = list.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));

  // 2. A PATH with node, npm, npx and sh only: no g++, cc, make, python, cmake.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of ['npm', 'npx']) {
    const found = findOnPath(tool);
    if (!found) throw new Error(`${tool} not found next to node or on PATH`);
    symlinkSync(found, join(bin, tool));
  }
  symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs lifecycle scripts with `sh -c`
  smokeEnv = cleanEnv({ PATH: bin, PREBUILDS_ONLY: '1' });

  // 3. npm install <tarball> in a fresh project, install scripts on.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'durabook-smoke', version: '0.0.0', private: true }, null, 2));
  const install = await run(
    join(bin, 'npm'),
    ['install', tarball, '--ignore-scripts=false', '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: app, env: smokeEnv, timeoutMs: 150_000 },
  );
  if (install.code !== 0) throw new Error(explain('npm install <tarball> (PATH without a compiler)', install));
  installLog = install.stdout + install.stderr;
  pkgDir = join(app, 'node_modules', 'durabook');
}, SETUP_TIMEOUT);

afterAll(() => {
  if (work && !process.env.DURABOOK_KEEP_PACK_DIR) rmSync(work, { recursive: true, force: true });
});

const SMOKE_BODY = `
  const engine = await Engine.open({ symbols: ['AAPL'] });
  const resting = engine.submit({ symbol: 'AAPL', id: 1, side: 'sell', type: 'limit', price: 10050, qty: 100 });
  const report = engine.submit({ symbol: 'AAPL', id: 2, side: 'buy', type: 'limit', price: 10050, qty: 40 });
  const depth = engine.depth('AAPL', 10);
  let thrown = null;
  try {
    engine.submit({ symbol: 'NOPE', id: 3, side: 'buy', type: 'limit', price: 1, qty: 1 });
  } catch (err) {
    thrown = err instanceof DurabookError ? err.code : String(err);
  }
  await engine.close();
  // The prebuild (compiled by node-gyp from binding.gyp, not by cmake-js) has lockMemory too.
  let lock;
  try {
    lock = lockMemory('on-fault');
    unlockMemory();
  } catch (err) {
    lock = { code: err.code };
  }
  let addon = null; // the .node file mapped into this process
  try {
    addon = readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/)[5]).find((p) => p && p.endsWith('.node')) ?? null;
  } catch {}
  console.log(JSON.stringify({ resolved, resting, report, depth, thrown, lock, addon }));
`;

const SMOKE_MJS = `import { Engine, DurabookError, lockMemory, unlockMemory } from 'durabook';
import { readFileSync } from 'node:fs';
const resolved = import.meta.resolve('durabook');
${SMOKE_BODY}`;

const SMOKE_CJS = `const { Engine, DurabookError, lockMemory, unlockMemory } = require('durabook');
const { readFileSync } = require('node:fs');
const resolved = require.resolve('durabook');
(async () => {
${SMOKE_BODY}
})().catch((err) => { console.error(err); process.exit(1); });
`;

// DURABLE MODE — waits for the WAL (Engine.open({ dir }) does not write one yet). Once open()
// writes anything into dir, this check is enforced: the order must be back after a reopen.
const DURABLE_MJS = `import { Engine } from 'durabook';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'durabook-durable-'));
const out = (o) => { console.log(JSON.stringify(o)); rmSync(dir, { recursive: true, force: true }); };
let engine;
try {
  engine = await Engine.open({ dir, durability: 'durable', symbols: ['AAPL'] });
} catch (err) {
  out({ state: 'pending', why: 'Engine.open({ dir }) threw: ' + (err.code ?? '') + ' ' + err.message });
  process.exit(0);
}
const r = engine.submit({ symbol: 'AAPL', id: 7, side: 'buy', type: 'limit', price: 10000, qty: 25 });
await engine.durable(r.seq);
await engine.close();
if (readdirSync(dir).length === 0) {
  out({ state: 'pending', why: 'Engine.open({ dir }) wrote nothing into dir: the WAL has not landed' });
  process.exit(0);
}
const again = await Engine.open({ dir, durability: 'durable' });
const order = again.order(7) ?? null;
const symbols = [...again.symbols];
await again.close();
out({ state: 'ran', report: r, order, symbols });
`;

async function node(file: string, source: string, timeoutMs = 30_000): Promise<Run> {
  writeFileSync(join(app, file), source);
  return run(join(app, '..', 'bin', 'node'), [file], { cwd: app, env: smokeEnv, timeoutMs });
}

describe('npm pack → npm install <tarball> → use, with no compiler on PATH', () => {
  it('the tarball holds dist/lib, the prebuild and the fallback build sources, and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'binding.gyp', 'native/sources.json']) {
      expect(contents).toContain(f);
    }
    expect(contents).toContain('dist/lib/index.js');
    expect(contents).toContain('dist/lib/index.d.ts');
    expect(contents.filter((f) => f.startsWith(prebuildDir) && f.endsWith('.node'))).toHaveLength(1);
    // every source binding.gyp compiles is there for the fallback
    const sources = JSON.parse(readFileSync(join(root, 'native/sources.json'), 'utf8')) as Record<string, string[]>;
    for (const f of Object.values(sources).flat()) expect(contents).toContain(f);
    const unwanted = contents.filter((f) =>
      /^(test|bench|scripts|\.ci|lib|build|build-[^/]*|node_modules|dist\/bench|dist\/test|native\/test|native\/bench)\//.test(f) ||
      /\.(map|tgz|o)$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('installed without compiling: no build/ directory, no node-gyp run', () => {
    expect(existsSync(join(pkgDir, 'package.json'))).toBe(true);
    expect(readdirSync(join(pkgDir, prebuildDir)).filter((f) => f.endsWith('.node'))).toHaveLength(1);
    expect(existsSync(join(pkgDir, 'build'))).toBe(false);
    expect(installLog).not.toMatch(/gyp info|node-gyp rebuild|CXX\(target\)/);
  });

  const expectedReport = {
    seq: 3,
    id: 2,
    status: 'filled',
    filledQty: 40,
    remainingQty: 0,
    trades: [{ makerId: 1, takerId: 2, price: 10050, qty: 40 }],
  };

  for (const [file, source] of [
    ['smoke.mjs', SMOKE_MJS],
    ['smoke.cjs', SMOKE_CJS],
  ] as const) {
    it(`${file}: ${file.endsWith('.mjs') ? 'import' : 'require()'} loads the prebuild, trades, reports, closes`, async () => {
      const r = await node(file, source);
      expect(r.code, explain(file, r)).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(String(out.resolved)).toContain('/node_modules/durabook/dist/lib/index.js');
      expect(out.resting).toMatchObject({ seq: 2, id: 1, status: 'new', filledQty: 0, remainingQty: 100, trades: [] });
      expect(out.report).toEqual(expectedReport); // JSON drops `reason: undefined`
      expect(out.depth).toEqual({ bids: [], asks: [{ price: 10050, qty: 60, orders: 1 }] });
      expect(out.thrown).toBe('UNKNOWN_SYMBOL');
      if (mayLockMemory()) expect(out.lock.mappings).toBeGreaterThan(3);
      else expect(out.lock).toEqual({ code: 'MEMORY_LOCK_FAILED' });
      if (process.platform === 'linux') {
        expect(out.addon).toContain(`/node_modules/durabook/${prebuildDir}`);
      }
      // require(esm) may warn on some 20.x releases; nothing else may reach stderr
      expect(r.stderr.replace(/^.*ExperimentalWarning.*\n?|^\(Use `node --trace-warnings.*\n?/gm, '')).toBe('');
    });
  }

  it('durable mode: open on a dir, trade, await durable, close, reopen, the order is back [pending the WAL]', async (ctx) => {
    const r = await node('durable.mjs', DURABLE_MJS);
    expect(r.code, explain('durable.mjs', r)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    if (out.state === 'pending') ctx.skip(`durable round trip pending the WAL: ${out.why}`);
    expect(out.symbols).toContain('AAPL');
    expect(out.order).toEqual({ id: 7, symbol: 'AAPL', side: 'buy', price: 10000, remainingQty: 25 });
  });

  it('the shipped declarations type-check a consumer (test/types/public-api.ts against the installed package)', async () => {
    writeFileSync(join(app, 'public-api.mts'), readFileSync(join(root, 'test/types/public-api.ts'), 'utf8'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['public-api.mts'],
      }),
    );
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, env: cleanEnv({}), timeoutMs: 60_000 });
    expect(r.code, explain('tsc (consumer of the installed package)', r)).toBe(0);
  });

  describe('the durabook command from the installed tarball', () => {
    const cliMissing = (): string | undefined =>
      existsSync(join(pkgDir, 'dist/lib/cli/main.js')) ? undefined : 'CLI not built yet: dist/lib/cli/main.js is not in the package';

    it('npx durabook --help', async (ctx) => {
      const missing = cliMissing();
      if (missing) ctx.skip(missing);
      const r = await run(join(app, '..', 'bin', 'npx'), ['--no', '--', 'durabook', '--help'], { cwd: app, env: smokeEnv, timeoutMs: 60_000 });
      expect(r.code, explain('npx durabook --help', r)).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/bench/);
    });

    it('npx durabook bench --ops 10000 --json prints JSON results on stdout', async (ctx) => {
      const missing = cliMissing();
      if (missing) ctx.skip(missing);
      const r = await run(join(app, '..', 'bin', 'npx'), ['--no', '--', 'durabook', 'bench', '--ops', '10000', '--json'], {
        cwd: app,
        env: smokeEnv,
        timeoutMs: 90_000,
      });
      expect(r.code, explain('npx durabook bench --ops 10000 --json', r)).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(typeof result).toBe('object');
      expect(result).not.toBeNull();
    }, 120_000);
  });
});
