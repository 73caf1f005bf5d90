// The layering of DEVELOPERS.md, checked on every `npm test` (`npm run lint:layers`):
//   protocol/  pure functions: imports nothing of ours outside protocol/, no Node built-ins, only
//              packages on an allow list
//   web/       the browser; server/ sockets and storage: neither imports the other
//   cli/       composes everything; only bin/ entry points, scripts and tests import it
//   scripts/   developer tools at the top: may import anything; only tests import them
//   test/      only tests and scripts import its helpers
// and no module reaches itself through its imports. Type-only imports count: a type cycle
// couples two modules as tightly as a value cycle does.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-imports-only-protocol',
      comment: 'protocol/ is the pure core the browser and the gateway share: it cannot depend on either, nor on the CLI, scripts or tests.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: '^(server|web|cli|bin|scripts|test)/' },
    },
    {
      name: 'protocol-no-node-builtins',
      comment: 'protocol/ runs in the browser as well as in Node: no I/O, no Node built-in modules.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'protocol-npm-allow-list',
      comment:
        "protocol/ may use only packages whose types bring no DOM or Node globals, or protocol/tsconfig.json (no DOM, no Node types) would no longer prove it free of them: ethers' types, for one, pull in @types/node. Add a package here only after checking `tsc -p protocol --listFiles` stays free of @types/node.",
      severity: 'error',
      from: { path: '^protocol/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '(^|/)node_modules/(@noble/hashes|@openzeppelin/merkle-tree|hash-wasm)/' },
    },
    {
      name: 'web-not-to-server',
      comment: 'web/ is the browser; server/ owns sockets and storage. They meet over the wire (and in protocol/), never by import.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^server/' },
    },
    {
      name: 'server-not-to-web',
      comment: 'web/ is the browser; server/ owns sockets and storage. They meet over the wire (and in protocol/), never by import.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^web/' },
    },
    {
      name: 'contributor-not-to-app',
      comment: 'web/contributor/ is the one contributor session the app and the widget share: it cannot depend on either view.',
      severity: 'error',
      from: { path: '^web/contributor/' },
      to: { path: '^web/(app|widget)/' },
    },
    {
      name: 'only-entry-points-import-cli',
      comment: 'cli/ is the outermost layer: bin/ entry points, scripts and tests may import it; what it composes may not.',
      severity: 'error',
      from: { pathNot: '^(cli|bin|scripts|test)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'only-tests-import-scripts',
      comment: 'scripts/ are developer tools (benchmarks, load, contract compilation): shipped code must not need them.',
      severity: 'error',
      from: { pathNot: '^(scripts|test)/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'only-tests-import-tests',
      comment: 'test/ helpers are not part of the product (the benchmark scripts reuse them to start a gateway and a browser).',
      severity: 'error',
      from: { pathNot: '^(test|scripts)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules that import each other cannot be understood, tested or moved apart; break the cycle with an interface or by moving the shared part out.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: "An import the checker cannot resolve is an edge it cannot check. Vite's `?url` imports of the built WASM are the one kind it cannot follow.",
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '\\.wasm\\?url$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules may be a link (a worktree sharing one checkout's install): name packages by it.
    preserveSymlinks: true,
    // Test fixtures for the checker itself hold wrong-way imports on purpose.
    exclude: { path: '^test/fixtures/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
