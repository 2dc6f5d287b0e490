import { describe, expect, it } from 'vitest';
import { screenshot, useBrowser } from './browser.js';

describe('the API documentation page', () => {
  const { open } = useBrowser();

  it('renders every operation under the strict CSP without a console error or CSP violation', async () => {
    const page = await open();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // Chromium logs a refused inline style as a console error too; the event also names the
    // directive and the file, so a failure says where to look.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(
          `CSP violation: ${e.effectiveDirective} refused ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`,
        ),
      );
    });

    const answer = await page.goto('/api/docs');
    const csp = answer?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    const spec = (await (await page.request.get('/api/docs/json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(spec.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const blocks = page.locator('.opblock');
    await expect.poll(() => blocks.count(), { timeout: 15_000 }).toBe(operations);

    // Opening an operation renders its parameters, schemas and examples: more chances for
    // an inline style or script to be refused.
    await page.locator('.opblock-summary', { hasText: '/api/rooms/{id}/messages' }).first().click();
    await page.locator('.opblock-body .responses-table').first().waitFor();
    await page.locator('section.models .model-container', { hasText: 'Problem' }).click();
    await page.locator('section.models .model-container .property-row').first().waitFor();
    await screenshot(page, 'api-docs');

    expect(problems).toEqual([]);
  });
});
