/**
 * A request body to start testing an endpoint with: one row of zeros as wide as the model's input,
 * read from the server's Open Inference Protocol V2 metadata (`GET /v2/models/<name>`).
 */

/** The parts of V2 model metadata used here. */
export interface ModelMetadata {
  readonly inputs?: readonly { readonly shape?: readonly number[] }[];
}

/** Features per row the model expects (1 when the metadata does not say). */
export function inputWidthOf(metadata: ModelMetadata | undefined): number {
  const width = metadata?.inputs?.[0]?.shape?.[1];
  return typeof width === 'number' && width > 0 ? width : 1;
}

/** `{"instances": [[0, 0, ...]]}`, pretty-printed for editing (KServe V1 predict). */
export function exampleV1Request(metadata: ModelMetadata | undefined): string {
  const row = Array.from({ length: inputWidthOf(metadata) }, () => 0);
  return `{\n  "instances": [[${row.join(', ')}]]\n}`;
}

/** The V1 predict URL of a model on a server. */
export function predictUrlOf(baseUrl: string, model: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(model)}:predict`;
}
