/**
 * Promise.withResolvers for Node 20 (it arrived in Node 22). libp2p v3 calls it inside
 * createLibp2p, stream reads and stop(), so it must exist before any libp2p code runs.
 *
 * Every entry point that reaches libp2p imports this module first: `@tandem/p2p` does it at the top
 * of its index (and of each module that imports libp2p), and a process or worker that imports
 * libp2p by another path must `import '@tandem/p2p/polyfill'` before it. Installing it twice is
 * harmless: it only fills the gap when the method is missing.
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type WithResolvers = <T>(this: PromiseConstructor) => Resolvers<T>;

function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
  let resolve!: Resolvers<T>['resolve'];
  let reject!: Resolvers<T>['reject'];
  // `this` rather than Promise, as the standard method does, so subclasses get their own kind.
  const promise = new this<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const target = Promise as PromiseConstructor & { withResolvers?: WithResolvers };
if (typeof target.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', { value: withResolvers, writable: true, configurable: true, enumerable: false });
}

/** True when the running Node already had Promise.withResolvers or this module installed it. */
export const promiseWithResolversInstalled: boolean = typeof target.withResolvers === 'function';
