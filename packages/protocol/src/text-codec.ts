// The WHATWG text codecs exist in every runtime Tandem targets (Node >= 20, browsers), but the
// ES lib does not declare them and the pure packages do not pull in @types/node.
export {};
declare global {
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
    decode(input?: Uint8Array): string;
  }
}
