// Opens each dashboard of an input file in headless Chromium on page.html (Grafana's code,
// bundled by build.mjs), and writes what the page displays and a picture of it.
//
//   node run.mjs INPUT.json OUTPUT_DIRECTORY CHROMIUM
//
// INPUT.json: {"dashboards": [{"name", "dashboard", "variables", "timeRange", "responses"}],
//              "crops": [{"name", "dashboard", "panel"}]} (see tests/grafana_frontend.py).
// Writes OUTPUT_DIRECTORY/result.json ({"dashboards": {name: {"displayed": {panel title:
// Displayed}, "drawn": [titles of the panels on the page], "scrolling": [titles of the
// panels that scroll sideways]}}, "errors": [...]}) and one PNG
// per dashboard and per crop. Every console error, page error and failed request is an
// error: the caller fails on any.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const WIDTH = 1920;
const TIMEOUT = 60_000;

const [inputPath, outputDirectory, executablePath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const page_url = pathToFileURL(resolve(fileURLToPath(new URL('.', import.meta.url)), 'page.html')).href;

const browser = await chromium.launch({
  executablePath,
  // Chromium refuses its sandbox to root; elsewhere it keeps it.
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
const result = { dashboards: {}, errors: [] };
try {
  for (const board of input.dashboards) {
    // The browser's zone and language are the board's and English: the dashboards follow the
    // browser's zone, and Grafana formats some numbers in the browser's language.
    const page = await browser.newPage({
      viewport: { width: WIDTH, height: 1000 },
      timezoneId: board.timeZone,
      locale: 'en-US',
    });
    const errors = (text) => result.errors.push(`${board.name}: ${text}`);
    page.on('console', (message) => message.type() === 'error' && errors(message.text()));
    page.on('pageerror', (error) => errors(String(error.stack ?? error)));
    page.on('requestfailed', (request) => errors(`${request.url()}: ${request.failure()?.errorText}`));
    await page.addInitScript((value) => { window.__INPUT__ = value; }, board);
    await page.goto(page_url);
    await page.waitForFunction(() => window.__RESULT__ !== undefined, null, { timeout: TIMEOUT });
    result.dashboards[board.name] = {
      displayed: await page.evaluate(() => window.__RESULT__),
      drawn: await page.$$eval('[data-panel-title]', (panels) => panels.map((panel) => panel.dataset.panelTitle)),
      // Panels with content out of sight, to be scrolled to sideways: a wallboard cannot.
      scrolling: await page.$$eval('[data-panel-title]', (panels) =>
        panels
          .filter((panel) =>
            [...panel.querySelectorAll('*')].some(
              (element) =>
                ['auto', 'scroll'].includes(getComputedStyle(element).overflowX) &&
                element.scrollWidth > element.clientWidth + 1
            )
          )
          .map((panel) => panel.dataset.panelTitle)
      ),
    };
    // The whole dashboard in the viewport: Grafana's table grid draws only what is in sight
    // (content-visibility: auto), so a full-page picture of a shorter viewport has blank tables.
    const height = await page.evaluate(() => Math.ceil(document.getElementById('root').getBoundingClientRect().bottom));
    await page.setViewportSize({ width: WIDTH, height });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.screenshot({ path: join(outputDirectory, `${board.name}.png`) });
    for (const crop of (input.crops ?? []).filter((crop) => crop.dashboard === board.name)) {
      const panel = page.locator(`[data-panel-title="${crop.panel}"]`);
      if ((await panel.count()) !== 1) {
        errors(`no single panel "${crop.panel}" to picture as ${crop.name}`);
        continue;
      }
      await panel.screenshot({ path: join(outputDirectory, `${crop.name}.png`) });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
writeFileSync(join(outputDirectory, 'result.json'), JSON.stringify(result, null, 1));
