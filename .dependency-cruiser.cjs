/**
 * The layering, checked by `npm run lint`: the domain is pure and imports nothing of the project outside it, the
 * operators lift the domain only, io adapts the edges with the domain and the configuration, pipelines compose,
 * the command line sits on top. See ARCHITECTURE.md.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import cycle: the rooms no longer have an order.', from: {}, to: { circular: true } },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain is physics and detection: no I/O, no RxJS, nothing of the project outside it.',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'operators-lift-the-domain',
      severity: 'error',
      comment: 'src/operators lift the domain into streams: RxJS and the domain only, never io, config, the CLI or pipelines.',
      from: { path: '^src/operators/' },
      to: { pathNot: ['^src/(domain|operators)/', '^node_modules/rxjs/'] },
    },
    {
      name: 'io-at-the-edges',
      severity: 'error',
      comment: 'src/io adapts the edges: it may use the domain and the configuration, never operators, pipelines, the CLI or the report.',
      from: { path: '^src/io/' },
      to: { path: '^(src/(operators|cli|report|sim)/|pipelines/)' },
    },
    {
      name: 'config-below-io',
      severity: 'error',
      comment: 'src/config (schema, loader, registry) is read by io and pipelines: it uses the domain only.',
      from: { path: '^src/config/' },
      to: { path: '^(src/(io|operators|cli|report|sim)/|pipelines/)' },
    },
    {
      name: 'report-and-sim-on-the-domain',
      severity: 'error',
      comment: 'src/report and src/sim read the domain only: what they show or simulate is what the domain defines.',
      from: { path: '^src/(report|sim)/' },
      to: { path: '^(src/(io|operators|cli|config)/|pipelines/)' },
    },
    {
      name: 'pipelines-never-call-the-cli',
      severity: 'error',
      comment: 'Pipelines compose operators and io; the command line is on top of them, not under.',
      from: { path: '^pipelines/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-on-top',
      severity: 'error',
      comment: 'Only the command line (and bin/) imports the command line.',
      from: { path: '^(src|pipelines)/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
