/**
 * The one tag grammar: Kale's tags, Papermill's `parameters`, and Cellflow's own.
 * Parsed and formatted only here; both editors and the CLI call these functions.
 */
import { excerptOfLine } from '../diagnostics.js';
import type { DiagnosticCode } from '../diagnostic-catalogue.js';
import {
  durationToSeconds,
  isImageReference,
  MAX_COUNT,
  MAX_STEP_NAME_LENGTH,
  MAX_TAG_LENGTH,
  quantityRangeProblem,
  readCount,
} from './tag-value-limits.js';

export type CellRole =
  | { readonly kind: 'step'; readonly name: string }
  | { readonly kind: 'imports' }
  | { readonly kind: 'functions' }
  | { readonly kind: 'parameters' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'skip' }
  /** No role tag: the cell continues the block above it. */
  | { readonly kind: 'continue' };

export type GpuVendor = 'nvidia' | 'amd';

export interface GpuRequest {
  readonly count: number;
  /** Node label value, e.g. `NVIDIA-A100-SXM4-80GB`. */
  readonly product?: string;
}

export interface SecretEnv {
  readonly secret: string;
  readonly key: string;
  readonly env: string;
}

/** Everything the tags of one cell say. Maps keep insertion order, which the formatter keeps. */
export interface CellTags {
  readonly role: CellRole;
  readonly prev: readonly string[];
  readonly image?: string;
  readonly cache?: boolean;
  readonly gpu?: GpuRequest;
  readonly gpuVendor?: GpuVendor;
  readonly cpu?: string;
  readonly memory?: string;
  /** `limit:KEY:VAL` entries not absorbed into cpu/memory/gpu. */
  readonly limits: Readonly<Record<string, string>>;
  readonly retries?: number;
  readonly timeout?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly SecretEnv[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Variables this step produces that can be served as a model. */
  readonly serve: readonly string[];
  /** pip requirements installed when the step starts on a cluster (`packages:scikit-learn`). */
  readonly packages: readonly string[];
  /** Tags that are not Cellflow's (Jupyter Book, nbconvert, user tags), kept as written. */
  readonly foreign: readonly string[];
}

export const EMPTY_CELL_TAGS: CellTags = emptyCellTags();

/** A problem with one tag; positions are added by the caller that knows the cell. */
export interface TagProblem {
  readonly tag: string;
  readonly code: DiagnosticCode;
  readonly message: string;
  /** The tag to write instead, when there is an obvious one. */
  readonly replacement?: string;
}

export const STEP_NAME_PATTERN = /^[_a-z][_a-z0-9]*$/;
const K8S_QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
/**
 * A pip requirement as `packages:` takes it: a distribution name, optional extras, optional
 * version specifiers (PEP 508 without markers or URLs; nothing a shell would read).
 */
const PIP_REQUIREMENT =
  /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?(?:\[[A-Za-z0-9._,-]+\])?(?:(?:===|==|!=|~=|>=|<=|>|<)[A-Za-z0-9.*+!_-]+(?:,(?:===|==|!=|~=|>=|<=|>|<)[A-Za-z0-9.*+!_-]+)*)?$/;

/** Kubernetes resource quantity (`500m`, `2`, `1.5`, `4Gi`, `1e3`). */
export const QUANTITY_PATTERN = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;
/** `90s`, `15m`, `2h`, `1h30m`, `1d`. */
const DURATION_PATTERN = /^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/;

/** Tags other tools put on cells; Cellflow leaves them alone and does not warn. */
const KNOWN_FOREIGN_TAGS = new Set([
  'injected-parameters',
  'hide-input',
  'hide-output',
  'hide-cell',
  'remove-input',
  'remove-output',
  'remove-cell',
  'raises-exception',
  'skip-execution',
  'full-width',
  'margin',
  'thebe-init',
  'nbval-skip',
  'nbval-ignore-output',
]);

const ROLE_TAGS: Readonly<Record<string, CellRole['kind']>> = {
  imports: 'imports',
  functions: 'functions',
  'pipeline-parameters': 'parameters',
  parameters: 'parameters',
  'pipeline-metrics': 'metrics',
  skip: 'skip',
};

const PREFIXES = [
  'step',
  'block',
  'prev',
  'limit',
  'annotation',
  'label',
  'image',
  'cache',
  'gpu',
  'gpu-vendor',
  'cpu',
  'memory',
  'retries',
  'timeout',
  'env',
  'secret',
  'serve',
  'packages',
] as const;

/** Turns an arbitrary name into a valid step name (`Load Data` -> `load_data`). */
export function toStepName(name: string): string {
  let s = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = 'step';
  if (/^[0-9]/.test(s)) s = `step_${s}`;
  return s.slice(0, MAX_STEP_NAME_LENGTH).replace(/_+$/, '');
}

/** Edit distance counting a swap of neighbours as one edit, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function suggestTag(tag: string): string | undefined {
  const [head = '', ...rest] = tag.split(':');
  // A tag written with a value can only be one of the prefixes that take a value.
  const candidates: readonly string[] = rest.length > 0 ? PREFIXES : Object.keys(ROLE_TAGS);
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(head.toLowerCase(), c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  return rest.length > 0 ? `${best}:${rest.join(':')}` : best;
}

/** Splits `KEY:VAL` at the first colon (keys never contain one; values may). */
function splitKeyValue(value: string): [string, string] | undefined {
  const at = value.indexOf(':');
  if (at <= 0) return undefined;
  return [value.slice(0, at), value.slice(at + 1)];
}

interface MutableCellTags {
  role: CellRole;
  prev: string[];
  image?: string;
  cache?: boolean;
  gpu?: GpuRequest;
  gpuVendor?: GpuVendor;
  cpu?: string;
  memory?: string;
  limits: Record<string, string>;
  retries?: number;
  timeout?: string;
  env: Record<string, string>;
  secrets: SecretEnv[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serve: string[];
  packages: string[];
  foreign: string[];
}

/** The tags of an untagged cell (it continues the step above), as a fresh object. */
function emptyCellTags(): MutableCellTags {
  return {
    role: { kind: 'continue' },
    prev: [],
    limits: {},
    env: {},
    secrets: [],
    labels: {},
    annotations: {},
    serve: [],
    packages: [],
    foreign: [],
  };
}

export interface ParsedCellTags {
  readonly tags: CellTags;
  readonly problems: TagProblem[];
}

/** Parses one cell's tags. Unknown or malformed tags become problems; the rest still applies. */
export function parseCellTags(rawTags: readonly string[]): ParsedCellTags {
  // Most cells have no tags: they share the one empty set of tags (nothing changes tags).
  if (rawTags.length === 0) return { tags: EMPTY_CELL_TAGS, problems: [] };
  const out = emptyCellTags();
  const problems: TagProblem[] = [];
  let current = '';
  /** A tag with a problem is not applied but kept verbatim, so that formatting never loses it. */
  const problem = (
    tag: string,
    code: DiagnosticCode,
    message: string,
    replacement?: string,
  ): void => {
    problems.push({ tag, code, message, ...(replacement !== undefined ? { replacement } : {}) });
    if (!out.foreign.includes(current)) out.foreign.push(current);
  };
  const setRole = (tag: string, role: CellRole): void => {
    if (out.role.kind !== 'continue' && JSON.stringify(out.role) !== JSON.stringify(role)) {
      problem(
        tag,
        'conflicting-role',
        `Tag \`${tag}\` conflicts with \`${formatRole(out.role)}\` on the same cell; a cell has one role. Fix: remove one of them.`,
      );
      return;
    }
    out.role = role;
  };

  for (const original of rawTags) {
    current = original;
    const tag = original.trim();
    if (tag === '') continue;
    if (tag.length > MAX_TAG_LENGTH) {
      problem(
        tag,
        'tag-too-long',
        `A tag of ${tag.length} characters (\`${excerptOfLine(tag, 60)}\`) is longer than the ${MAX_TAG_LENGTH} Cellflow reads. Fix: shorten it.`,
      );
      continue;
    }
    const roleKind = ROLE_TAGS[tag];
    if (roleKind !== undefined) {
      setRole(tag, { kind: roleKind } as CellRole);
      continue;
    }
    if (KNOWN_FOREIGN_TAGS.has(tag)) {
      out.foreign.push(original);
      continue;
    }
    const colon = tag.indexOf(':');
    const prefix = colon < 0 ? tag : tag.slice(0, colon);
    const value = colon < 0 ? '' : tag.slice(colon + 1);
    switch (prefix) {
      case 'step':
      case 'block': {
        // Kale reads a `block:` tag without a name as no tag: the cell continues the block above.
        if (prefix === 'block' && value === '') break;
        if (!STEP_NAME_PATTERN.test(value)) {
          const fixed = toStepName(value);
          problem(
            tag,
            'bad-step-name',
            `Step name \`${value}\` is not valid: use lowercase letters, digits and underscores, starting with a letter or underscore. Fix: rename it to \`${fixed}\`.`,
            `step:${fixed}`,
          );
        } else if (value.length > MAX_STEP_NAME_LENGTH) {
          const fixed = toStepName(value);
          problem(
            tag,
            'bad-step-name',
            `Step name \`${excerptOfLine(value, 40)}\` has ${value.length} characters; Kubeflow names its task and pods after it, and Kubernetes names hold at most ${MAX_STEP_NAME_LENGTH}. Fix: rename it to \`${fixed}\`.`,
            `${prefix}:${fixed}`,
          );
        } else {
          setRole(tag, { kind: 'step', name: value });
        }
        break;
      }
      case 'prev':
        if (!STEP_NAME_PATTERN.test(value) || value.length > MAX_STEP_NAME_LENGTH) {
          problem(
            tag,
            'bad-step-name',
            `\`${tag}\` does not name a valid step. Fix: write \`prev:${toStepName(value)}\`.`,
            `prev:${toStepName(value)}`,
          );
        } else if (!out.prev.includes(value)) {
          out.prev.push(value);
        }
        break;
      case 'image':
        if (!isImageReference(value)) {
          problem(
            tag,
            'bad-image',
            `\`${tag}\` is not a container image reference (\`[REGISTRY/]NAME[:TAG][@DIGEST]\`, lowercase name). Fix: write e.g. \`image:python:3.11-slim\`.`,
          );
        } else out.image = value;
        break;
      case 'cache':
        if (value === 'enabled' || value === 'disabled') out.cache = value === 'enabled';
        else
          problem(tag, 'bad-cache', `\`${tag}\`: write \`cache:enabled\` or \`cache:disabled\`.`);
        break;
      case 'gpu': {
        const [countText = '', ...productParts] = value.split(':');
        const product = productParts.join(':');
        if (readCount(countText, 1) === undefined) {
          problem(
            tag,
            'bad-gpu-count',
            `GPU count in \`${tag}\` must be a whole number from 1 to ${MAX_COUNT}. Fix: write e.g. \`gpu:1\` or \`gpu:2:NVIDIA-A100-SXM4-80GB\`.`,
          );
        } else if (productParts.length > 0 && !LABEL_VALUE.test(product)) {
          problem(
            tag,
            'bad-gpu-product',
            `GPU product \`${product}\` is not a valid node label value (letters, digits, '-', '_', '.').`,
          );
        } else {
          out.gpu = { count: Number(countText), ...(product !== '' ? { product } : {}) };
        }
        break;
      }
      case 'gpu-vendor':
        if (value === 'nvidia' || value === 'amd') out.gpuVendor = value;
        else problem(tag, 'bad-gpu-vendor', `\`${tag}\`: the vendor is \`nvidia\` or \`amd\`.`);
        break;
      case 'cpu':
      case 'memory':
        if (!QUANTITY_PATTERN.test(value)) {
          problem(
            tag,
            'bad-quantity',
            `\`${tag}\` is not a Kubernetes quantity. Fix: write e.g. \`${prefix === 'cpu' ? 'cpu:500m' : 'memory:4Gi'}\`.`,
          );
        } else if (quantityRangeProblem(value) !== undefined) {
          problem(
            tag,
            'bad-quantity',
            `\`${tag}\` ${quantityRangeProblem(value)}. Fix: write e.g. \`${prefix === 'cpu' ? 'cpu:500m' : 'memory:4Gi'}\`.`,
          );
        } else if (prefix === 'cpu') out.cpu = value;
        else out.memory = value;
        break;
      case 'limit': {
        const kv = splitKeyValue(value);
        if (kv === undefined || kv[1] === '') {
          problem(
            tag,
            'bad-limit',
            `\`${tag}\`: write \`limit:RESOURCE:QUANTITY\`, e.g. \`limit:nvidia.com/gpu:1\` or \`limit:memory:4Gi\`.`,
          );
          break;
        }
        const [key, qty] = kv;
        if (key === 'nvidia.com/gpu' || key === 'amd.com/gpu') {
          if (readCount(qty, 1) === undefined) {
            problem(
              tag,
              'bad-gpu-count',
              `GPU count in \`${tag}\` must be a whole number from 1 to ${MAX_COUNT}.`,
            );
          } else {
            out.gpu = { ...(out.gpu ?? {}), count: Number(qty) };
            out.gpuVendor = key === 'amd.com/gpu' ? 'amd' : (out.gpuVendor ?? 'nvidia');
          }
        } else if (!QUANTITY_PATTERN.test(qty) || quantityRangeProblem(qty) !== undefined) {
          problem(
            tag,
            'bad-quantity',
            `\`${qty}\` in \`${tag}\` is not a Kubernetes quantity in range (e.g. \`2\`, \`500m\`, \`4Gi\`).`,
          );
        } else if (key === 'cpu') out.cpu = qty;
        else if (key === 'memory') out.memory = qty;
        else out.limits[key] = qty;
        break;
      }
      case 'retries': {
        const retries = readCount(value, 0);
        if (retries === undefined)
          problem(
            tag,
            'bad-retries',
            `\`${tag}\`: the retry count is a whole number from 0 to ${MAX_COUNT}, e.g. \`retries:2\`.`,
          );
        else out.retries = retries;
        break;
      }
      case 'timeout':
        if (value === '' || !DURATION_PATTERN.test(value)) {
          problem(
            tag,
            'bad-timeout',
            `\`${tag}\` is not a duration. Fix: write e.g. \`timeout:90s\`, \`timeout:15m\` or \`timeout:1h30m\`.`,
          );
        } else if (durationToSeconds(value) < 1 || durationToSeconds(value) > MAX_COUNT) {
          problem(
            tag,
            'bad-timeout',
            `\`${tag}\`: a timeout is from 1 second to ${MAX_COUNT} seconds (about 68 years). Fix: write e.g. \`timeout:90s\`, or remove the tag for no limit.`,
          );
        } else out.timeout = value;
        break;
      case 'env': {
        const eq = value.indexOf('=');
        const name = eq < 0 ? value : value.slice(0, eq);
        if (eq < 0 || !ENV_NAME.test(name)) {
          problem(
            tag,
            'bad-env',
            `\`${tag}\`: write \`env:NAME=VALUE\` with NAME made of letters, digits and underscores.`,
          );
        } else out.env[name] = value.slice(eq + 1);
        break;
      }
      case 'secret': {
        const parts = value.split(':');
        const [secret = '', key = '', env = ''] = parts;
        if (
          parts.length !== 3 ||
          !SECRET_NAME.test(secret) ||
          !SECRET_KEY.test(key) ||
          !ENV_NAME.test(env)
        ) {
          problem(
            tag,
            'bad-secret',
            `\`${tag}\`: write \`secret:SECRET_NAME:KEY:ENV_VAR\`, e.g. \`secret:s3-creds:access_key:AWS_ACCESS_KEY_ID\`.`,
          );
        } else out.secrets.push({ secret, key, env });
        break;
      }
      case 'label':
      case 'annotation': {
        const kv = splitKeyValue(value);
        if (kv === undefined || !K8S_QUALIFIED_NAME.test(kv[0])) {
          problem(
            tag,
            prefix === 'label' ? 'bad-label' : 'bad-annotation',
            `\`${tag}\`: write \`${prefix}:KEY:VALUE\` with a Kubernetes ${prefix} key (e.g. \`${prefix}:team:vision\`).`,
          );
        } else if (prefix === 'label' && !LABEL_VALUE.test(kv[1])) {
          problem(
            tag,
            'bad-label',
            `Label value \`${kv[1]}\` in \`${tag}\` is not valid (at most letters, digits, '-', '_', '.'; use an annotation for free text).`,
          );
        } else if (prefix === 'label') out.labels[kv[0]] = kv[1];
        else out.annotations[kv[0]] = kv[1];
        break;
      }
      case 'serve':
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value))
          problem(
            tag,
            'bad-serve',
            `\`${tag}\`: write \`serve:VARIABLE\` naming the model variable.`,
          );
        else if (!out.serve.includes(value)) out.serve.push(value);
        break;
      case 'packages':
        // Several requirements may share a tag (`packages:numpy,pandas`); a comma inside a version
        // range (`pandas>=2,<3`) does not start a new one.
        for (const requirement of value.split(/,(?=[A-Za-z0-9])/)) {
          if (!PIP_REQUIREMENT.test(requirement))
            problem(
              tag,
              'bad-packages',
              `\`${requirement}\` in \`${tag}\` is not a pip requirement. Fix: write e.g. \`packages:scikit-learn\` or \`packages:pandas>=2,<3\`.`,
            );
          else if (!out.packages.includes(requirement)) out.packages.push(requirement);
        }
        break;
      default: {
        const suggestion = suggestTag(tag);
        problem(
          tag,
          'unknown-tag',
          `Unknown tag \`${tag}\`${suggestion !== undefined ? `; did you mean \`${suggestion}\`?` : '.'} ` +
            'Cellflow tags: step:NAME, prev:NAME, imports, functions, pipeline-parameters, pipeline-metrics, skip, gpu:N, image:REF, packages:REQ, cpu:Q, memory:Q, ...',
          suggestion,
        );
      }
    }
  }
  return { tags: out, problems };
}

function formatRole(role: CellRole): string {
  switch (role.kind) {
    case 'step':
      return `step:${role.name}`;
    case 'parameters':
      return 'pipeline-parameters';
    case 'metrics':
      return 'pipeline-metrics';
    case 'continue':
      return '';
    default:
      return role.kind;
  }
}

/**
 * Writes tags back in canonical order: role, prev, image, resources, behaviour, environment,
 * metadata, serving, then tags that are not Cellflow's, as they were.
 */
export function formatCellTags(tags: CellTags): string[] {
  const out: string[] = [];
  const role = formatRole(tags.role);
  if (role !== '') out.push(role);
  for (const p of tags.prev) out.push(`prev:${p}`);
  if (tags.image !== undefined) out.push(`image:${tags.image}`);
  if (tags.gpu !== undefined)
    out.push(
      `gpu:${tags.gpu.count}${tags.gpu.product !== undefined ? `:${tags.gpu.product}` : ''}`,
    );
  if (tags.gpuVendor !== undefined && tags.gpuVendor !== 'nvidia')
    out.push(`gpu-vendor:${tags.gpuVendor}`);
  if (tags.cpu !== undefined) out.push(`cpu:${tags.cpu}`);
  if (tags.memory !== undefined) out.push(`memory:${tags.memory}`);
  for (const [k, v] of Object.entries(tags.limits)) out.push(`limit:${k}:${v}`);
  if (tags.retries !== undefined) out.push(`retries:${tags.retries}`);
  if (tags.timeout !== undefined) out.push(`timeout:${tags.timeout}`);
  if (tags.cache !== undefined) out.push(`cache:${tags.cache ? 'enabled' : 'disabled'}`);
  for (const [k, v] of Object.entries(tags.env)) out.push(`env:${k}=${v}`);
  for (const s of tags.secrets) out.push(`secret:${s.secret}:${s.key}:${s.env}`);
  for (const [k, v] of Object.entries(tags.labels)) out.push(`label:${k}:${v}`);
  for (const [k, v] of Object.entries(tags.annotations)) out.push(`annotation:${k}:${v}`);
  for (const s of tags.serve) out.push(`serve:${s}`);
  if (tags.packages.length > 0) out.push(`packages:${tags.packages.join(',')}`);
  for (const f of tags.foreign) if (!out.includes(f)) out.push(f);
  return out;
}

/** Parses then formats: what an editor writes after a change. Problem tags are kept verbatim. */
export function normalizeCellTags(rawTags: readonly string[]): string[] {
  return formatCellTags(parseCellTags(rawTags).tags);
}
