import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PARTS, staleParts } from '../../scripts/build-state.mjs';

let root = '';
const roots: string[] = [];

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** Writes `path` under the temporary checkout with the given age in seconds. */
function file(path: string, ageSeconds: number): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, '');
  const t = Date.now() / 1000 - ageSeconds;
  utimesSync(full, t, t);
}

/** Sets the age of `path` and everything under it (a folder's own time counts too). */
function age(path: string, ageSeconds: number): void {
  for (const entry of readdirSync(path, { recursive: true, encoding: 'utf8' }))
    utimesSync(join(path, entry), Date.now() / 1000 - ageSeconds, Date.now() / 1000 - ageSeconds);
  utimesSync(path, Date.now() / 1000 - ageSeconds, Date.now() / 1000 - ageSeconds);
}

/** A checkout whose sources are a minute old and whose build is newer. */
function builtCheckout(): void {
  root = mkdtempSync(join(tmpdir(), 'carechat-build-state-'));
  roots.push(root);
  for (const part of Object.values(PARTS))
    for (const source of part.sources)
      file(source.includes('.') ? source : join(source, 'index.ts'), 60);
  age(root, 60);
  file(PARTS.server.output, 30);
  file(PARTS.web.output, 30);
}

describe('npm start rebuilds only what is stale', () => {
  it('builds nothing when every output is newer than its sources', () => {
    builtCheckout();
    expect(staleParts(root)).toEqual([]);
  });

  it('builds what has never been built', () => {
    builtCheckout();
    rmSync(join(root, PARTS.web.output));
    expect(staleParts(root)).toEqual(['web']);
    rmSync(join(root, PARTS.server.output));
    expect(staleParts(root)).toEqual(['server', 'web']);
  });

  it('a changed server source rebuilds the server, a web source the web app, a shared one both', () => {
    builtCheckout();
    file('src/domain/rooms/policy.ts', 0);
    expect(staleParts(root)).toEqual(['server']);

    builtCheckout();
    file('src/web/pages/login.tsx', 0);
    expect(staleParts(root)).toEqual(['web']);

    builtCheckout();
    file('src/shared/wire.ts', 0);
    expect(staleParts(root)).toEqual(['server', 'web']);

    builtCheckout();
    file('tsconfig.json', 0);
    expect(staleParts(root)).toEqual(['server']);
  });
});
