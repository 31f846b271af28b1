/**
 * Opens the report.html of a real run in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) and checks, through the DOM, that every part rendered and that the zoom and
 * the settlement filter work. CI installs Chromium (.ci/run); on a machine without it the test
 * is skipped with a message saying so, unless CI is set, where a missing browser is a failure.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCENARIO = join(import.meta.dirname, '../../../scenarios/no-quorum-partition-heal.yaml');

const haveChromium = existsSync(CHROMIUM);

if (!haveChromium && process.env['CI']) {
  describe('report.html in a browser', () => {
    it(`needs ${CHROMIUM} on CI (.ci/run installs the Debian package chromium)`, () => {
      throw new Error(`${CHROMIUM} is missing on CI: .ci/run should have installed it`);
    });
  });
} else if (!haveChromium) {
  console.warn(`report-browser.spec.ts: skipped, ${CHROMIUM} not found (apt-get install -y chromium to run it; on CI it is required)`);
  describe('report.html in a browser', () => {
    it.skip(`skipped: ${CHROMIUM} not found (apt-get install -y chromium to run it)`, () => {});
  });
} else {
  describe('report.html in a browser', () => {
    let dir: string;
    let context: BrowserContext;
    let page: Page;
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    let history: Record<string, unknown>[];
    let result: { settlements: unknown[]; invariants: { name: string; ok: boolean | null }[]; seed: number };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tandem-report-'));
      const out = join(dir, 'out');
      // The command prints its summary: keep the test output clean.
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await main(['node', 'tandem', 'simulate', SCENARIO, '--out', out])).toBe(0);
      } finally {
        write.mockRestore();
      }
      history = readFileSync(join(out, 'history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));

      // A fresh profile per run, so nothing from an earlier run (or the user's) is reused.
      context = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1360, height: 900 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
    });

    afterAll(async () => {
      await context?.close();
      // Keep the page and its screenshot for a look when asked to.
      if (dir && !process.env['TANDEM_KEEP_REPORT']) rmSync(dir, { recursive: true, force: true });
    });

    it('draws one lane per node and a line per delivered message', async () => {
      expect(await page.locator('#diagram .lane').count()).toBe(4);
      const msgs = history.filter((e) => e['type'] === 'msg');
      const delivered = msgs.filter((e) => e['deliverAtMs'] !== null).length;
      const droppedAtDownReceiver = msgs.filter((e) => e['lost'] === 'receiver down').length;
      expect(delivered).toBeGreaterThan(0);
      expect(await page.locator('#diagram line.m').count()).toBe(delivered - droppedAtDownReceiver);
      // Lost ones are there too: partition losses and the ones that reached the crashed n3.
      const lost = msgs.filter((e) => e['deliverAtMs'] === null).length;
      expect(await page.locator('#diagram g.m.lost').count()).toBe(lost);
      // The partition window and n3's crash interval are drawn, and the decisions are marked.
      expect(await page.locator('#diagram rect.fault.partition').count()).toBe(1);
      expect(await page.locator('#diagram rect.down').count()).toBe(1);
      expect(await page.locator('#diagram g.crash').count()).toBe(1);
      const decided = history.filter((e) => e['type'] === 'decided').length;
      expect(await page.locator('#diagram g.decided.commit').count()).toBe(decided);
      expect(await page.locator('#diagram g.deliver').count()).toBe(history.filter((e) => e['type'] === 'deliver').length);
      const box = await page.locator('#diagram').boundingBox();
      expect(box!.width).toBeGreaterThan(800);
      expect(box!.height).toBeGreaterThan(150);
    });

    it('shows the leg timelines, the histogram and the tables', async () => {
      expect(await page.locator('#legs svg.legs-svg').count()).toBe(result.settlements.length);
      expect(await page.locator('#legs rect.seg').count()).toBeGreaterThanOrEqual(4); // none → held/locked → posted/released, per leg
      expect(await page.locator('#legs .mark.deadline').count()).toBe(result.settlements.length);
      expect(await page.locator('#legs .mark.reclaim').count()).toBe(result.settlements.length);
      const bars = page.locator('#latency rect.bar');
      expect(await bars.count()).toBeGreaterThan(0);
      const heights = await bars.evaluateAll((els) => els.map((e) => (e as SVGGraphicsElement).getBBox().height));
      expect(Math.max(...heights)).toBeGreaterThan(10);
      const rows = page.locator('#invariants tbody tr');
      expect(await rows.count()).toBe(result.invariants.length);
      expect(await rows.first().locator('td').first().textContent()).toBe(result.invariants[0]!.name);
      expect(await page.locator('#invariants tr.broken').count()).toBe(result.invariants.filter((i) => i.ok === false).length);
      expect(await page.locator('#settlements tbody tr').count()).toBe(result.settlements.length);
      expect(await page.locator('#replay').textContent()).toBe(`pnpm tandem simulate ${SCENARIO} --seed ${result.seed}`);
    });

    it('zooms with the mouse wheel and filters by settlement', async () => {
      const firstLine = page.locator('#diagram line.m').first();
      const before = Number(await firstLine.getAttribute('x1'));
      const box = (await page.locator('#diagram').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, -400);
      await page.waitForFunction(() => Number((document.getElementById('to') as HTMLInputElement).value) < Number(document.getElementById('diagram')!.dataset['t1']));
      const from = Number(await page.locator('#from').inputValue());
      const to = Number(await page.locator('#to').inputValue());
      const t1 = Number(await page.locator('#diagram').getAttribute('data-t1'));
      expect(to - from).toBeLessThan(t1);
      expect(Number(await firstLine.getAttribute('x1'))).not.toBe(before);

      await page.locator('#reset').click();
      await page.waitForFunction(() => Number((document.getElementById('from') as HTMLInputElement).value) === 0);
      // One settlement in this scenario: filtering on it keeps every message line visible.
      await page.locator('#filter').selectOption('0');
      expect(await page.locator('#diagram line.m:visible').count()).toBe(await page.locator('#diagram line.m').count());
    });

    it('makes no request beyond the file, logs no error, and looks right in a screenshot', async () => {
      await page.locator('#filter').selectOption('');
      await page.locator('#reset').click();
      const png = join(dir, 'report.png');
      await page.screenshot({ path: png, fullPage: true });
      expect(statSync(png).size).toBeGreaterThan(20_000);
      expect(consoleErrors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
      if (process.env['TANDEM_KEEP_REPORT']) process.stderr.write(`report screenshot: ${png}\n`);
    });
  });
}
