/**
 * Pipelines and pipeline versions of the KFP double, as KFP's API server keeps them: `CreatePipeline`
 * (JSON), `UploadPipeline` / `UploadPipelineVersion` (multipart `uploadfile`, the way the KFP UI and
 * SDK upload), names unique per namespace (pipelines) and per pipeline (versions), the uploaded
 * YAML checked against the KFP protos and kept as the version's `pipeline_spec` (wrapped with its
 * `platform_spec` when the file has one, as runs carry it).
 */
import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { validatePipelineSpecObject, validatePlatformSpecObject } from '../../validate/kfp-ir.js';
import { KfpError } from './list-query.js';
import { validateKfpBody } from './swagger.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export interface PipelineRecord {
  pipeline_id: string;
  name: string;
  display_name: string;
  description?: string;
  namespace?: string;
  created_at: string;
  [key: string]: unknown;
}

export interface PipelineVersionRecord {
  pipeline_id: string;
  pipeline_version_id: string;
  name: string;
  display_name: string;
  description?: string;
  created_at: string;
  /** `{ pipeline_spec, platform_spec }` when the upload had a platform spec, else the spec. */
  pipeline_spec: Json;
  [key: string]: unknown;
}

/** An uploaded file (multipart `uploadfile`). */
export interface UploadedFile {
  name: string;
  text: string;
}

export class KfpPipelines {
  readonly pipelines = new Map<string, PipelineRecord>();
  readonly versions = new Map<string, PipelineVersionRecord>();
  /** The clock of `created_at` (KFP keeps whole seconds); a test may stop it to make uploads tie. */
  clock: () => number = Date.now;

  constructor(private readonly multiUser: boolean) {}

  createPipeline(body: unknown): PipelineRecord {
    const errors = validateKfpBody('v2beta1Pipeline', body);
    if (errors.length > 0) throw new KfpError(3, `Invalid pipeline: ${errors.join('; ')}`);
    const p = obj(body);
    for (const f of ['pipeline_id', 'created_at', 'error'])
      if (p[f] !== undefined) throw new KfpError(3, `Invalid pipeline: ${f} is output only`);
    const name = String(p.name ?? p.display_name ?? '');
    return this.addPipeline({
      name,
      displayName: typeof p.display_name === 'string' ? p.display_name : name,
      ...(typeof p.description === 'string' ? { description: p.description } : {}),
      ...(typeof p.namespace === 'string' && p.namespace !== '' ? { namespace: p.namespace } : {}),
    });
  }

  private addPipeline(p: {
    name: string;
    displayName: string;
    description?: string;
    namespace?: string;
  }): PipelineRecord {
    if (p.name === '')
      throw new KfpError(3, 'Invalid input error: pipeline name is empty. Please specify a name');
    const namespace = this.multiUser ? p.namespace : undefined;
    for (const other of this.pipelines.values())
      if (other.name === p.name && other.namespace === namespace)
        throw new KfpError(
          6,
          `Failed to create a pipeline: the name ${p.name} already exists in namespace "${namespace ?? ''}". Please specify a new name`,
        );
    const record: PipelineRecord = {
      pipeline_id: randomUUID(),
      name: p.name,
      display_name: p.displayName,
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      created_at: timestamp(this.clock()),
    };
    this.pipelines.set(record.pipeline_id, record);
    return record;
  }

  getPipeline(id: string): PipelineRecord {
    const p = this.pipelines.get(id);
    if (p === undefined) throw new KfpError(5, `Failed to get pipeline: pipeline ${id} not found`);
    return p;
  }

  getPipelineByName(name: string, namespace: string | null): PipelineRecord {
    for (const p of this.pipelines.values())
      if (p.name === name && (p.namespace ?? '') === (namespace ?? '')) return p;
    throw new KfpError(5, `Failed to get pipeline by name: pipeline ${name} not found`);
  }

  deletePipeline(id: string): void {
    this.getPipeline(id);
    if (this.versionsOf(id).length > 0)
      throw new KfpError(
        9,
        `Failed to delete pipeline ${id}: it has versions; delete them first or pass cascade=true`,
      );
    this.pipelines.delete(id);
  }

  /** `UploadPipeline`: a pipeline and its first version, both named from the query or the file. */
  uploadPipeline(file: UploadedFile | undefined, query: URLSearchParams): PipelineRecord {
    const name = query.get('name') ?? query.get('display_name') ?? stem(file?.name ?? '');
    const spec = this.specOfUpload(file);
    const pipeline = this.addPipeline({
      name,
      displayName: query.get('display_name') ?? name,
      ...(query.get('description') !== null ? { description: query.get('description')! } : {}),
      ...(query.get('namespace') ? { namespace: query.get('namespace')! } : {}),
    });
    this.addVersion(
      pipeline,
      name,
      query.get('display_name') ?? name,
      query.get('description'),
      spec,
    );
    return pipeline;
  }

  /** `UploadPipelineVersion`: a new version of pipeline `pipelineid`. */
  uploadVersion(file: UploadedFile | undefined, query: URLSearchParams): PipelineVersionRecord {
    const pipelineId = query.get('pipelineid') ?? '';
    if (pipelineId === '')
      throw new KfpError(3, 'Invalid input error: pipelineid is required to upload a version');
    const pipeline = this.getPipeline(pipelineId);
    const spec = this.specOfUpload(file);
    const name = query.get('name') ?? query.get('display_name') ?? stem(file?.name ?? '');
    return this.addVersion(
      pipeline,
      name,
      query.get('display_name') ?? name,
      query.get('description'),
      spec,
    );
  }

  private specOfUpload(file: UploadedFile | undefined): Json {
    if (file === undefined)
      throw new KfpError(3, 'Invalid input error: failed to read the uploaded file "uploadfile"');
    if (Buffer.byteLength(file.text) > 32 * 1024 * 1024)
      throw new KfpError(3, 'Invalid input error: the file is larger than the 32 MB upload limit');
    let docs: Json[];
    try {
      docs = parseAllDocuments(file.text).map((d) => obj(d.toJS()));
    } catch (error) {
      throw new KfpError(3, `Invalid input error: the file is not YAML: ${String(error)}`);
    }
    const [pipelineSpec = {}, platformSpec] = docs;
    const errors = [
      ...validatePipelineSpecObject(pipelineSpec),
      ...(platformSpec !== undefined ? validatePlatformSpecObject(platformSpec) : []),
    ];
    if (errors.length > 0)
      throw new KfpError(3, `Invalid input error: invalid pipeline spec: ${errors.join('; ')}`);
    return platformSpec !== undefined
      ? { pipeline_spec: pipelineSpec, platform_spec: platformSpec }
      : pipelineSpec;
  }

  private addVersion(
    pipeline: PipelineRecord,
    name: string,
    displayName: string,
    description: string | null,
    spec: Json,
  ): PipelineVersionRecord {
    if (name === '') throw new KfpError(3, 'Invalid input error: pipeline version name is empty');
    if (this.versionsOf(pipeline.pipeline_id).some((v) => v.name === name))
      throw new KfpError(
        6,
        `Failed to create a pipeline version: the name ${name} already exists in pipeline ${pipeline.pipeline_id}`,
      );
    const version: PipelineVersionRecord = {
      pipeline_id: pipeline.pipeline_id,
      pipeline_version_id: randomUUID(),
      name,
      display_name: displayName,
      ...(description !== null ? { description } : {}),
      created_at: timestamp(this.clock()),
      pipeline_spec: spec,
    };
    this.versions.set(version.pipeline_version_id, version);
    return version;
  }

  /** Versions of a pipeline, oldest first. */
  versionsOf(pipelineId: string): PipelineVersionRecord[] {
    return [...this.versions.values()].filter((v) => v.pipeline_id === pipelineId);
  }

  getVersion(pipelineId: string, versionId: string): PipelineVersionRecord {
    const v = this.versions.get(versionId);
    if (v === undefined || v.pipeline_id !== pipelineId)
      throw new KfpError(
        5,
        `Failed to get pipeline version: version ${versionId} of pipeline ${pipelineId} not found`,
      );
    return v;
  }

  /** A `pipeline_version_reference`: the version named, else the pipeline's newest. */
  resolveReference(reference: unknown): PipelineVersionRecord {
    const ref = obj(reference);
    const pipelineId = typeof ref.pipeline_id === 'string' ? ref.pipeline_id : '';
    const versionId = typeof ref.pipeline_version_id === 'string' ? ref.pipeline_version_id : '';
    if (pipelineId === '')
      throw new KfpError(3, 'Invalid input error: pipeline_version_reference needs a pipeline_id');
    this.getPipeline(pipelineId);
    if (versionId !== '') return this.getVersion(pipelineId, versionId);
    const newest = this.versionsOf(pipelineId).at(-1);
    if (newest === undefined)
      throw new KfpError(9, `Failed to find the latest version of pipeline ${pipelineId}: none`);
    return newest;
  }
}

function stem(fileName: string): string {
  return fileName.replace(/\.(ya?ml|json|zip|tar\.gz|tgz)$/, '');
}
