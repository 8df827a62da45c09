// @pprl/core-wasm in a real browser: a static page (e2e/browser/) imports the package's built dist over HTTP,
// the loader fetches build/pprl.wasm relative to import.meta.url, and the page replays 1F1B in headless Chromium.
import { createServer, type Server } from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const e2eDir = fileURLToPath(new URL('..', import.meta.url));
const coreDir = realpathSync(join(e2eDir, 'node_modules/@pprl/core-wasm'));
// URL prefix -> folder. zod is the copy core-wasm itself resolves, as a browser user's import map would point at.
const roots: Record<string, string> = {
  '/pkg/core-wasm/': coreDir,
  '/pkg/schedulers/': realpathSync(join(e2eDir, 'node_modules/@pprl/schedulers')),
  '/pkg/zod/': realpathSync(join(coreDir, 'node_modules/zod')),
  '/': join(e2eDir, 'browser'),
};
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

interface Served {
  path: string;
  status: number;
}

/** Serves the roots above on 127.0.0.1 (random port); records every request. */
function startServer(log: Served[]): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const reply = (status: number, body: string | Buffer, type = 'text/plain') => {
      log.push({ path, status });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    if (!prefix) return reply(404, 'not found');
    const root = roots[prefix]!;
    const file = normalize(join(root, path.slice(prefix.length) || 'index.html'));
    if (file !== root && !file.startsWith(root + sep)) return reply(403, 'outside the served folder');
    readFile(file).then(
      (body) => reply(200, body, MIME[extname(file)] ?? 'application/octet-stream'),
      () => reply(404, 'not found'),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await jsFiles(p)));
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

describe('@pprl/core-wasm in headless Chromium', () => {
  it('has no module-level Node import in its dist (a browser blocker)', async () => {
    // a static `import ... from 'node:...'` (or a bare 'fs', 'path', ...) fails at module load in a browser;
    // the loader's `await import('node:fs/promises')` only runs for file: URLs and is fine
    const blockers: string[] = [];
    for (const file of await jsFiles(join(coreDir, 'dist'))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || /^(fs|path|url|os|crypto|module|child_process|worker_threads)(\/|$)/.test(spec))
          blockers.push(`${file.slice(coreDir.length + 1)} imports '${spec}' at module load`);
      }
    }
    expect(blockers, `browser blocker in @pprl/core-wasm:\n${blockers.join('\n')}`).toEqual([]);
  });

  let server: Server;
  let browser: Browser;
  const requests: Served[] = [];

  beforeAll(async () => {
    await stat(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) for this test`);
    });
    server = await startServer(requests);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('replays 1F1B (P = 4, M = 8, unit costs) in the page: makespan 33, no console errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));

    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.waitForFunction(() => (window as { pprlResult?: unknown }).pprlResult !== undefined, null, {
      timeout: 30_000,
    });
    const result = await page.evaluate(() => (window as unknown as { pprlResult: Record<string, unknown> }).pprlResult);
    await page.close();

    expect(result.error, `the page could not run @pprl/core-wasm: ${String(result.error)}`).toBeUndefined();
    // (M + P - 1)(F + BW) = 11 * 3: every device busy M * 3 = 24
    expect(result).toMatchObject({
      engine: 'wasm',
      makespan: 33,
      span: 33,
      referenceMakespan: 33,
      schedulersMakespan: 33,
      busy: [24, 24, 24, 24],
      peakMemory: [4, 3, 2, 1],
      timelineOps: 4 * 2 * 8,
      firstOps: ['0F0', '0F1', '0F2'],
      configError: { name: 'ConfigError', isConfigError: true },
    });
    expect(String((result.configError as { message: string }).message)).toMatch(/stages/);
    expect(problems).toEqual([]);

    // the engine came over HTTP from the package folder, next to dist/
    expect(requests).toContainEqual({ path: '/pkg/core-wasm/build/pprl.wasm', status: 200 });
    expect(requests.filter((r) => r.status !== 200)).toEqual([]);
  }, 60_000);
});
