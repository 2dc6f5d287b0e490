/**
 * The layers of docs/ARCHITECTURE.md, checked on every `npm run lint`. A violation fails
 * lint with the rule's name. Rules match folders by prefix, so a new folder inside a layer
 * (src/domain/access, src/domain/audit, …) is held to its layer's rules from its first file.
 *
 * Type-only imports count (tsPreCompilationDeps): a type from another layer couples the
 * code just as surely, and it is one `import` away from a runtime dependency.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'http-uses-domain-and-shared',
      comment:
        'Routes validate, call the domain and present; they do not reach the store, the bus or the web app.',
      severity: 'error',
      from: { path: '^src/server/http/' },
      to: {
        path: '^src/',
        pathNot: ['^src/(domain|shared|server/http)/', '^src/server/(services|config)\\.ts$'],
      },
    },
    {
      name: 'realtime-uses-domain-and-shared',
      comment:
        'The gateway works through the domain. Exception: it may import src/bus/, because it is ' +
        'the consumer the bus exists for (its wake-ups become frames, and presence is counted ' +
        'there); the bus carries no rules of its own.',
      severity: 'error',
      from: { path: '^src/server/realtime/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/(domain|shared|bus|server/realtime|server/http)/',
          '^src/server/(services|config)\\.ts$',
        ],
      },
    },
    {
      name: 'routes-see-the-composition-root-as-types',
      comment:
        'Exception to the two rules above, types only: services.ts and config.ts describe what ' +
        'app.ts hands every route plugin (the built services, the settings). A type import ' +
        'cannot construct anything or run wiring code; a runtime import would.',
      severity: 'error',
      from: { path: '^src/server/(http|realtime)/' },
      to: { path: '^src/server/(services|config)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-never-imports-server',
      comment: 'The rules know nothing of HTTP, sockets or how the process is wired.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/server/' },
    },
    {
      name: 'domain-uses-store-interfaces-only',
      comment:
        'The domain sees the store through its types (Store, rows, entries), handed in through ' +
        'Deps; it never builds or opens one itself. Exception: store/audit-chain.ts, the hash ' +
        'that defines how audit rows are chained as stored (the repository and a migration ' +
        'write with it); the verifier in domain/audit must recompute exactly that function. ' +
        'It is pure (no SQL, no connection), so importing it reaches no database.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        path: '^src/store/',
        pathNot: '^src/store/audit-chain\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'only-store-imports-database-drivers',
      comment:
        'SQL and its dialects stay in src/store/. Tests and the benchmark are outside this rule: ' +
        'they create schemas and seed rows directly, as setup, not as architecture.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: {
        path: '(^|/)node_modules/(kysely|pg|pg-pool|better-sqlite3|@types/(pg|better-sqlite3))/',
      },
    },
    {
      name: 'web-imports-web-and-shared',
      comment: 'The browser bundle must not pull in server code (or its secrets and drivers).',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/', pathNot: '^src/(web|shared)/' },
    },
    {
      name: 'shared-imports-shared',
      comment:
        'src/shared/ is in the browser bundle too: what it imports, the web app imports, so it ' +
        'stays on its own.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
