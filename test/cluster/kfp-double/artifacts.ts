/**
 * The KFP UI's artifact endpoint, as the double serves it: `GET /artifacts/get?source=&bucket=&key=`
 * (`source` minio, s3 or gcs; `namespace` and `peek` accepted) answers an artifact's bytes, the way
 * KFP's UI server streams an object from the store. Reached through the API server's service proxy
 * to `ml-pipeline-ui` (port 80), as Cellflow and the KFP UI reach it. Tests put the artifacts a run
 * made (`put(uri, bytes)`), as KFP's launcher uploads a task's outputs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class KfpArtifacts {
  private readonly objects = new Map<string, Buffer>();
  /** Every artifact asked for, by URI, oldest first. */
  readonly reads: string[] = [];

  put(uri: string, bytes: Buffer | string): void {
    this.objects.set(uri, Buffer.from(bytes));
  }

  /** Answers `req` when it is an artifact request; false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://kfp-ui');
    if (url.pathname !== '/artifacts/get') return false;
    const q = url.searchParams;
    const source = q.get('source');
    const scheme = source === 'gcs' ? 'gs' : source;
    if (req.method !== 'GET' || (scheme !== 'minio' && scheme !== 's3' && scheme !== 'gs')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Unsupported artifact source');
      return true;
    }
    const uri = `${scheme}://${q.get('bucket') ?? ''}/${q.get('key') ?? ''}`;
    this.reads.push(uri);
    const bytes = this.objects.get(uri);
    if (bytes === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`Key not found: ${uri}`);
      return true;
    }
    const peek = Number(q.get('peek') ?? '0');
    const body = peek > 0 ? bytes.subarray(0, peek) : bytes;
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(body);
    return true;
  }
}
