// Comlink ships its Node adapter's types as node-adapter.d.ts beside node-adapter.mjs, which
// NodeNext resolution does not pair up; this points the import at those same types.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { NodeEndpoint } from 'comlink/dist/esm/node-adapter.js';
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
