// The one platform API core uses, present in browsers and Node alike (core has no DOM or Node lib).
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
