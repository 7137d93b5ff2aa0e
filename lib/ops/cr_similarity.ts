// Temporary alias of ./cr-similarity.ts until the workers branch lands: lib/losses/contrastive.ts
// (being rewritten there) still imports this path. Delete this file once it imports cr-similarity.js.
export * from './cr-similarity.js';
