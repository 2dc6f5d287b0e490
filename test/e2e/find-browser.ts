import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { chromium } from 'playwright-core';

/** The browser the e2e tests drive, and where it came from (the tests print it). */
export interface BrowserChoice {
  source: 'CHROMIUM_PATH' | 'system' | 'playwright' | 'npm package';
  executablePath: string;
  /** Extra environment for the browser process (the npm package's fonts and libraries). */
  env?: Record<string, string>;
}

/** What discovery looks at; tests hand in a made-up machine. */
export interface BrowserHost {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  arch: string;
  exists(path: string): boolean;
  /** Names of the directories in `path`, or none when it cannot be read. */
  list(path: string): string[];
  /** The executable's path when `name` is on PATH. */
  onPath(name: string): string | undefined;
  /** Where this playwright-core expects its own Chromium to be installed. */
  playwrightExecutable(): string | undefined;
  /** Unpacks @sparticuz/chromium (when installed) and answers its executable. */
  packageChromium(): Promise<BrowserChoice | undefined>;
}

const SYSTEM_PATHS = ['/usr/bin/chromium'];
const SYSTEM_COMMANDS = ['google-chrome', 'google-chrome-stable', 'chromium-browser', 'chromium'];
const MAC_APPS = [
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];
/** Inside a Playwright browser folder, per platform layout, newest layout first. */
const PLAYWRIGHT_EXECUTABLES = [
  'chrome-linux64/chrome',
  'chrome-linux/chrome',
  'chrome-headless-shell-linux64/chrome-headless-shell',
  'chrome-linux/headless_shell',
  'chrome-mac/Chromium.app/Contents/MacOS/Chromium',
  'chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing',
  'chrome-mac-x64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing',
];

/**
 * Finds a Chromium without downloading anything from outside the npm registry, in this
 * order: `CHROMIUM_PATH`; a system Chromium or Chrome (skipped when
 * `CHROMIUM_SKIP_SYSTEM=1`); a Playwright browser already installed; the Chromium inside
 * the @sparticuz/chromium dev dependency (Linux x64), unpacked to the temporary folder.
 */
export async function findBrowser(host: BrowserHost = realHost()): Promise<BrowserChoice> {
  const explicit = host.env.CHROMIUM_PATH;
  if (explicit) {
    // A path someone chose is never silently swapped for another browser.
    if (!host.exists(explicit)) throw new Error(`CHROMIUM_PATH=${explicit} does not exist`);
    return { source: 'CHROMIUM_PATH', executablePath: explicit };
  }
  if (host.env.CHROMIUM_SKIP_SYSTEM !== '1') {
    const system = systemBrowser(host);
    if (system) return { source: 'system', executablePath: system };
  }
  const playwright = playwrightBrowser(host);
  if (playwright) return { source: 'playwright', executablePath: playwright };
  if (host.platform === 'linux' && host.arch === 'x64') {
    const packaged = await host.packageChromium();
    if (packaged) return packaged;
  }
  throw new Error(
    'No Chromium found. Run `npm install` (it brings @sparticuz/chromium on Linux x64), ' +
      'install Chromium or Chrome (`apt-get install -y chromium`), or set CHROMIUM_PATH to ' +
      'a Chromium executable.',
  );
}

function systemBrowser(host: BrowserHost): string | undefined {
  for (const p of SYSTEM_PATHS) if (host.exists(p)) return p;
  for (const name of SYSTEM_COMMANDS) {
    const found = host.onPath(name);
    if (found) return found;
  }
  if (host.platform === 'darwin') for (const p of MAC_APPS) if (host.exists(p)) return p;
  return undefined;
}

/** This playwright-core's own Chromium, else any Chromium Playwright has installed, newest first. */
function playwrightBrowser(host: BrowserHost): string | undefined {
  const own = host.playwrightExecutable();
  if (own && host.exists(own)) return own;
  const root = playwrightCache(host);
  const revision = (name: string) => Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
  const folders = host
    .list(root)
    .filter((n) => /^chromium(_headless_shell)?-\d+$/.test(n))
    .sort((a, b) => revision(b) - revision(a));
  for (const folder of folders)
    for (const exe of PLAYWRIGHT_EXECUTABLES) {
      const path = join(root, folder, exe);
      if (host.exists(path)) return path;
    }
  return undefined;
}

/** Playwright's browser folder: PLAYWRIGHT_BROWSERS_PATH, else the platform's cache. */
function playwrightCache(host: BrowserHost): string {
  const set = host.env.PLAYWRIGHT_BROWSERS_PATH;
  if (set && set !== '0') return set;
  const home = host.env.HOME ?? homedir();
  if (host.platform === 'darwin') return join(home, 'Library/Caches/ms-playwright');
  if (host.platform === 'win32')
    return join(host.env.LOCALAPPDATA ?? join(home, 'AppData/Local'), 'ms-playwright');
  return join(host.env.XDG_CACHE_HOME ?? join(home, '.cache'), 'ms-playwright');
}

function realHost(): BrowserHost {
  return {
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    exists: existsSync,
    list: (path) => {
      try {
        return readdirSync(path);
      } catch {
        return [];
      }
    },
    onPath: (name) => {
      for (const dir of (process.env.PATH ?? '').split(delimiter)) {
        const candidate = join(dir, name);
        if (dir && existsSync(candidate)) return candidate;
      }
      return undefined;
    },
    playwrightExecutable: () => {
      try {
        return chromium.executablePath();
      } catch {
        return undefined;
      }
    },
    packageChromium,
  };
}

/**
 * The Chromium (headless shell) that @sparticuz/chromium carries inside its npm package,
 * brotli-packed; the package unpacks it, and its fonts, to the temporary folder once.
 */
async function packageChromium(): Promise<BrowserChoice | undefined> {
  let Chromium: { executablePath(): Promise<string> };
  try {
    Chromium = (await import('@sparticuz/chromium')).default;
  } catch {
    return undefined;
  }
  const executablePath = await Chromium.executablePath();
  const env: Record<string, string> = { FONTCONFIG_PATH: join(tmpdir(), 'fonts') };
  const libraries = missingLibraries(executablePath) ? packageLibraries() : undefined;
  if (libraries)
    env.LD_LIBRARY_PATH = [libraries, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { source: 'npm package', executablePath, env };
}

/** True when the dynamic linker cannot find some library the browser needs (NSS, say). */
function missingLibraries(executable: string): boolean {
  const ldd = spawnSync('ldd', [executable], { encoding: 'utf8' });
  return ldd.status === 0 && ldd.stdout.includes('not found');
}

/**
 * The package also carries the few libraries its browser needs beyond glibc (NSS, NSPR,
 * expat) for machines without them; they are unpacked beside the browser on first need.
 */
function packageLibraries(): string {
  const target = join(tmpdir(), 'carechat-chromium-libs');
  const lib = join(target, 'lib');
  if (existsSync(join(lib, 'libnss3.so'))) return lib;
  const packDir = dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium'));
  const pack = join(packDir, '../../bin/al2023.tar.br');
  const partial = `${target}.${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  execFileSync('tar', ['-x', '-C', partial], { input: brotliDecompressSync(readFileSync(pack)) });
  try {
    renameSync(partial, target);
  } catch {
    // Another test file unpacked it first.
    rmSync(partial, { recursive: true, force: true });
  }
  return lib;
}
