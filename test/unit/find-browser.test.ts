import { describe, expect, it } from 'vitest';
import { findBrowser, type BrowserChoice, type BrowserHost } from '../e2e/find-browser.js';

/** A made-up machine: which files exist, what is on PATH, what the npm package gives. */
function machine(
  opts: {
    files?: string[];
    path?: Record<string, string>;
    env?: Record<string, string>;
    platform?: NodeJS.Platform;
    arch?: string;
    playwright?: string;
    packaged?: boolean;
  } = {},
): BrowserHost & { packageAsked: () => boolean } {
  const files = new Set(opts.files ?? []);
  let asked = false;
  return {
    env: { HOME: '/home/u', ...opts.env },
    platform: opts.platform ?? 'linux',
    arch: opts.arch ?? 'x64',
    exists: (p) => files.has(p),
    list: (dir) => [
      ...new Set(
        [...files]
          .filter((f) => f.startsWith(`${dir}/`))
          .map((f) => f.slice(dir.length + 1).split('/')[0]!),
      ),
    ],
    onPath: (name) => opts.path?.[name],
    playwrightExecutable: () => opts.playwright,
    packageChromium: (): Promise<BrowserChoice | undefined> => {
      asked = true;
      return Promise.resolve(
        opts.packaged === false
          ? undefined
          : { source: 'npm package', executablePath: '/tmp/chromium', env: {} },
      );
    },
    packageAsked: () => asked,
  };
}

const found = async (host: BrowserHost) => {
  const c = await findBrowser(host);
  return `${c.source}: ${c.executablePath}`;
};

describe('browser discovery', () => {
  it('takes CHROMIUM_PATH before anything else, and refuses one that does not exist', async () => {
    const host = machine({
      env: { CHROMIUM_PATH: '/opt/my/chrome' },
      files: ['/opt/my/chrome', '/usr/bin/chromium'],
    });
    expect(await found(host)).toBe('CHROMIUM_PATH: /opt/my/chrome');
    await expect(
      findBrowser(machine({ env: { CHROMIUM_PATH: '/nope' }, files: ['/usr/bin/chromium'] })),
    ).rejects.toThrow('CHROMIUM_PATH=/nope does not exist');
  });

  it('prefers /usr/bin/chromium, then Chrome or Chromium on PATH, in that order', async () => {
    const path = { 'google-chrome-stable': '/usr/local/bin/google-chrome-stable' };
    expect(await found(machine({ files: ['/usr/bin/chromium'], path }))).toBe(
      'system: /usr/bin/chromium',
    );
    expect(await found(machine({ path }))).toBe('system: /usr/local/bin/google-chrome-stable');
    expect(
      await found(machine({ path: { ...path, 'google-chrome': '/usr/bin/google-chrome' } })),
    ).toBe('system: /usr/bin/google-chrome');
    expect(
      await found(machine({ path: { 'chromium-browser': '/snap/bin/chromium-browser' } })),
    ).toBe('system: /snap/bin/chromium-browser');
  });

  it('finds Chrome in the macOS Applications folder', async () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    expect(await found(machine({ platform: 'darwin', arch: 'arm64', files: [chrome] }))).toBe(
      `system: ${chrome}`,
    );
  });

  it('falls back to an installed Playwright browser: its own revision, else the newest in the cache', async () => {
    const own = '/home/u/.cache/ms-playwright/chromium-1200/chrome-linux64/chrome';
    expect(await found(machine({ playwright: own, files: [own] }))).toBe(`playwright: ${own}`);
    const older = '/home/u/.cache/ms-playwright/chromium-1100/chrome-linux/chrome';
    const newer =
      '/home/u/.cache/ms-playwright/chromium_headless_shell-1150/chrome-linux/headless_shell';
    const host = machine({ playwright: own, files: [older, newer] });
    expect(await found(host)).toBe(`playwright: ${newer}`);
    expect(host.packageAsked()).toBe(false);
    const custom = '/srv/pw/chromium-1300/chrome-linux64/chrome';
    expect(
      await found(machine({ env: { PLAYWRIGHT_BROWSERS_PATH: '/srv/pw' }, files: [custom] })),
    ).toBe(`playwright: ${custom}`);
  });

  it('uses the npm package last, on Linux x64 only', async () => {
    const host = machine();
    expect(await found(host)).toBe('npm package: /tmp/chromium');
    expect(host.packageAsked()).toBe(true);
    const arm = machine({ arch: 'arm64' });
    await expect(findBrowser(arm)).rejects.toThrow('No Chromium found');
    expect(arm.packageAsked()).toBe(false);
    await expect(findBrowser(machine({ packaged: false }))).rejects.toThrow(
      /No Chromium found.*CHROMIUM_PATH/,
    );
  });

  it('CHROMIUM_SKIP_SYSTEM=1 looks past the system browser', async () => {
    const files = ['/usr/bin/chromium'];
    const path = { 'google-chrome': '/usr/bin/google-chrome' };
    expect(await found(machine({ files, path, env: { CHROMIUM_SKIP_SYSTEM: '1' } }))).toBe(
      'npm package: /tmp/chromium',
    );
    const pw = '/home/u/.cache/ms-playwright/chromium-1200/chrome-linux64/chrome';
    expect(
      await found(
        machine({ files: [...files, pw], playwright: pw, env: { CHROMIUM_SKIP_SYSTEM: '1' } }),
      ),
    ).toBe(`playwright: ${pw}`);
  });
});
