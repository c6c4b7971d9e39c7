// The layers of src/ (ARCHITECTURE.md draws them): imports point down only, and nothing imports in
// a circle. `npm run lint` (part of `npm test`) runs these rules; a violation fails it.
/** Everything in src/ but the given paths (regex fragments after `^src/`). */
const srcExcept = (...allowed) => ({ path: '^src/', pathNot: `^src/(${allowed.join('|')})` });

/**
 * The edges (where the world comes in) use each other only where ARCHITECTURE.md says: the Discord
 * transports dispatch to commands/ (router, command list), the watchdog plugs into webhook intake
 * (its hook type), and the preview page takes the webhook credential (webhooks/auth).
 */
const EDGES = ['commands', 'discord', 'webhooks', 'watchdog', 'schedule', 'preview'];
const EDGE_USES = { discord: ['commands/'], watchdog: ['webhooks/'], preview: ['webhooks/auth\\.ts$'] };
const edgeRules = EDGES.map((room) => ({
  name: `edge-${room}-stays-in-its-lane`,
  severity: 'error',
  comment: `${room}/ uses the other edges only as ARCHITECTURE.md lists`,
  from: { path: `^src/${room}/` },
  to: {
    path: `^src/(${EDGES.filter((e) => e !== room).join('|')})/`,
    ...(EDGE_USES[room] ? { pathNot: `^src/(${EDGE_USES[room].join('|')})` } : {}),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle: split the shared piece out, one way', from: {}, to: { circular: true } },
    {
      name: 'model-is-the-floor',
      severity: 'error',
      comment: 'model.ts and findings.ts are the shared types: they import nothing of ours above them',
      from: { path: '^src/(model|findings)\\.ts$' },
      to: srcExcept('model\\.ts$', 'findings\\.ts$'),
    },
    {
      name: 'config-stands-alone',
      severity: 'error',
      comment: 'config/ knows only itself and model.ts',
      from: { path: '^src/config/' },
      to: srcExcept('config/', 'model\\.ts$'),
    },
    {
      name: 'i18n-stands-alone',
      severity: 'error',
      comment: 'i18n/ (the message catalogs) knows only itself and model.ts: every room may use it',
      from: { path: '^src/i18n/' },
      to: srcExcept('i18n/', 'model\\.ts$'),
    },
    {
      name: 'log-and-server-are-infrastructure',
      severity: 'error',
      comment: 'the logger and the HTTP server know nothing of the bot',
      from: { path: '^src/(log|server)\\.ts$' },
      to: srcExcept('log\\.ts$', 'server\\.ts$'),
    },
    {
      name: 'metrics-reads-the-store-only',
      severity: 'error',
      comment: 'metrics.ts (registry, /metrics, /readyz) is read by every room: it knows only the store and the server',
      from: { path: '^src/metrics\\.ts$' },
      to: srcExcept('metrics\\.ts$', 'store/', 'server\\.ts$', 'model\\.ts$', 'config/'),
    },
    {
      name: 'queries-below-render',
      severity: 'error',
      comment: 'queries/ (backend clients, the query catalog) uses only config, model, findings and the logger',
      from: { path: '^src/queries/' },
      to: srcExcept('queries/', 'config/', 'model\\.ts$', 'findings\\.ts$', 'log\\.ts$'),
    },
    {
      name: 'render-is-pure',
      severity: 'error',
      comment: 'render/ turns data into Discord messages: it reads the data types of queries/, never the store, the pipeline or Discord',
      from: { path: '^src/render/' },
      to: srcExcept('render/', 'queries/', 'config/', 'i18n/', 'model\\.ts$', 'findings\\.ts$'),
    },
    {
      name: 'render-reads-data-not-clients',
      severity: 'error',
      comment: 'render/ may use the query data types and the pure builders (promql, matchers), never a live client',
      from: { path: '^src/render/' },
      to: { path: '^src/queries/', pathNot: '^src/queries/(promql|matchers)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'store-owns-tables-only',
      severity: 'error',
      comment: 'store/ holds every table and migration; it knows only config and the shared types',
      from: { path: '^src/store/' },
      to: srcExcept('store/', 'config/', 'model\\.ts$', 'findings\\.ts$'),
    },
    {
      name: 'cluster-on-the-store-only',
      severity: 'error',
      comment: 'cluster/ (the leader lease) reads the store and logs; main.ts decides what the leader runs',
      from: { path: '^src/cluster/' },
      to: srcExcept('cluster/', 'store/', 'log\\.ts$', 'model\\.ts$'),
    },
    {
      name: 'pipeline-below-the-edges',
      severity: 'error',
      comment: 'the pipeline is called by the edges (webhooks, discord, commands, schedule, watchdog, preview), never the reverse',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/((commands|discord|webhooks|watchdog|schedule|preview)/|(main|cli)\\.ts$)' },
    },
    {
      name: 'composition-root-on-top',
      severity: 'error',
      comment: 'main.ts wires everything; only the CLI starts it',
      from: { pathNot: '^src/(main|cli)\\.ts$' },
      to: { path: '^src/(main|cli)\\.ts$' },
    },
    {
      name: 'discord-js-in-discord-only',
      severity: 'error',
      comment: 'discord.js libraries (@discordjs/rest, @discordjs/ws) are used in src/discord/ alone; elsewhere only discord-api-types',
      from: { path: '^src/', pathNot: '^src/discord/' },
      to: { path: 'node_modules/@discordjs/' },
    },
    ...edgeRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
