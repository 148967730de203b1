/**
 * Recurring runs of the KFP double (KFP's ScheduledWorkflow, reduced to what a client sees): the
 * checks `CreateRecurringRun` makes (one trigger, max concurrency 1-10, a pipeline version or
 * spec, parameters the pipeline declares, an experiment that is not archived), `:enable` /
 * `:disable`, and a scheduler the test drives with `tick()`: each enabled schedule that is due
 * (an interval since its last run, or a second its cron matches) and has fewer unfinished runs
 * than its max concurrency starts a run through the same path as CreateRun, with
 * `recurring_run_id` set. Cron is KFP's: six fields, seconds first (`*`, `?`, lists, ranges, steps).
 */
import { randomUUID } from 'node:crypto';
import { KfpError } from './list-query.js';
import type { KfpPipelines } from './pipelines.js';
import type { KfpStore } from './runs.js';
import { validateKfpBody } from './swagger.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const timestamp = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export interface RecurringRunRecord {
  recurring_run_id: string;
  display_name: string;
  description?: string;
  pipeline_version_reference?: Json;
  pipeline_spec?: Json;
  runtime_config: Json;
  service_account?: string;
  max_concurrency: string;
  trigger: Json;
  no_catchup: boolean;
  status: 'ENABLED' | 'DISABLED';
  experiment_id: string;
  namespace?: string;
  created_at: string;
  updated_at: string;
  /** When the scheduler last started a run (ms), or the creation time. */
  lastFireMs: number;
  [key: string]: unknown;
}

const OUTPUT_ONLY = [
  'recurring_run_id',
  'created_at',
  'updated_at',
  'status',
  'error',
  'namespace',
];

const CRON_RANGES: readonly [number, number][] = [
  [0, 59], // second
  [0, 59], // minute
  [0, 23], // hour
  [1, 31], // day of month
  [1, 12], // month
  [0, 6], // day of week
];

/** The cron's six fields as sets of allowed values; undefined when malformed. */
export function parseKfpCron(cron: string): Set<number>[] | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 6) return undefined;
  const sets: Set<number>[] = [];
  for (const [i, field] of fields.entries()) {
    const [lo, hi] = CRON_RANGES[i]!;
    const set = new Set<number>();
    for (const part of field.split(',')) {
      const m = /^(\*|\?|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (m === null) return undefined;
      const from = m[2] !== undefined ? Number(m[2]) : lo;
      const to =
        m[3] !== undefined ? Number(m[3]) : m[2] !== undefined && m[4] === undefined ? from : hi;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < lo || to > hi || from > to || step < 1) return undefined;
      for (let v = from; v <= to; v += step) set.add(v);
    }
    sets.push(set);
  }
  return sets;
}

function cronMatches(sets: Set<number>[], ms: number): boolean {
  const d = new Date(ms);
  const values = [
    d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth() + 1, d.getUTCDay(),
  ]; // prettier-ignore
  return values.every((v, i) => sets[i]!.has(v));
}

export class KfpRecurringRuns {
  readonly schedules = new Map<string, RecurringRunRecord>();

  constructor(
    private readonly store: KfpStore,
    private readonly pipelines: KfpPipelines,
  ) {}

  create(body: unknown): RecurringRunRecord {
    const errors = validateKfpBody('v2beta1RecurringRun', body);
    if (errors.length > 0) throw new KfpError(3, `Invalid recurring run: ${errors.join('; ')}`);
    const r = obj(body);
    const outputOnly = OUTPUT_ONLY.filter((f) => r[f] !== undefined);
    if (outputOnly.length > 0)
      throw new KfpError(
        3,
        `Invalid recurring run: output-only field(s) set: ${outputOnly.join(', ')}`,
      );
    const displayName = String(r.display_name ?? '');
    if (displayName === '')
      throw new KfpError(3, 'Invalid input error: recurring run display name is required');
    const maxConcurrency = Number(r.max_concurrency ?? '0');
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 10)
      throw new KfpError(
        3,
        `Invalid input error: max concurrency of a recurring run must be in [1, 10], got ${String(r.max_concurrency)}`,
      );
    const trigger = obj(r.trigger);
    const cron = obj(trigger.cron_schedule).cron;
    const interval = obj(trigger.periodic_schedule).interval_second;
    if ((cron === undefined) === (interval === undefined))
      throw new KfpError(
        3,
        'Invalid input error: a recurring run needs exactly one of trigger.cron_schedule and trigger.periodic_schedule',
      );
    if (cron !== undefined && parseKfpCron(String(cron)) === undefined)
      throw new KfpError(
        3,
        `Invalid input error: invalid cron expression "${String(cron)}" (six fields, seconds first)`,
      );
    if (interval !== undefined && !(Number(interval) > 0))
      throw new KfpError(
        3,
        'Invalid input error: the interval of a periodic schedule must be positive',
      );
    if ((r.pipeline_version_reference === undefined) === (r.pipeline_spec === undefined))
      throw new KfpError(
        3,
        'Invalid input error: a recurring run needs one of pipeline_version_reference and pipeline_spec',
      );
    const spec =
      r.pipeline_version_reference !== undefined
        ? this.pipelines.resolveReference(r.pipeline_version_reference).pipeline_spec
        : obj(r.pipeline_spec);
    this.store.checkRuntimeParameters(spec, obj(obj(r.runtime_config).parameters));
    const experiment =
      typeof r.experiment_id === 'string' && r.experiment_id !== ''
        ? this.store.getExperiment(r.experiment_id)
        : this.store.defaultExperiment();
    if (experiment.storage_state === 'ARCHIVED')
      throw new KfpError(
        9,
        `Failed to create a recurring run: experiment ${experiment.experiment_id} is archived`,
      );
    const now = Date.now();
    const record: RecurringRunRecord = {
      recurring_run_id: randomUUID(),
      display_name: displayName,
      ...(typeof r.description === 'string' ? { description: r.description } : {}),
      ...(r.pipeline_version_reference !== undefined
        ? { pipeline_version_reference: obj(r.pipeline_version_reference) }
        : { pipeline_spec: obj(r.pipeline_spec) }),
      runtime_config: obj(r.runtime_config),
      ...(typeof r.service_account === 'string' ? { service_account: r.service_account } : {}),
      max_concurrency: String(maxConcurrency),
      trigger,
      no_catchup: r.no_catchup === true,
      status: r.mode === 'DISABLE' ? 'DISABLED' : 'ENABLED',
      experiment_id: experiment.experiment_id,
      ...(experiment.namespace !== undefined ? { namespace: experiment.namespace } : {}),
      created_at: timestamp(now),
      updated_at: timestamp(now),
      lastFireMs: now,
    };
    this.schedules.set(record.recurring_run_id, record);
    return record;
  }

  get(id: string): RecurringRunRecord {
    const r = this.schedules.get(id);
    if (r === undefined)
      throw new KfpError(5, `Failed to get recurring run: recurring run ${id} not found`);
    return r;
  }

  setEnabled(id: string, enabled: boolean): void {
    const r = this.get(id);
    const status = enabled ? 'ENABLED' : 'DISABLED';
    if (r.status !== status) {
      r.status = status;
      r.updated_at = timestamp();
      // A resumed schedule counts from now: it does not start the runs it missed while paused.
      if (enabled) r.lastFireMs = Date.now();
    }
  }

  delete(id: string): void {
    this.get(id);
    this.schedules.delete(id);
  }

  /** The v2beta1RecurringRun a client sees. */
  view(r: RecurringRunRecord): Json {
    const { lastFireMs: _, ...rest } = r;
    return { ...rest, mode: r.status === 'ENABLED' ? 'ENABLE' : 'DISABLE' };
  }

  /**
   * Starts the runs that are due at `nowMs` (one per schedule per tick; with `no_catchup` false a
   * schedule behind by several periods catches up over later ticks). Returns the new runs' ids.
   */
  async tick(nowMs = Date.now()): Promise<string[]> {
    const started: string[] = [];
    for (const r of this.schedules.values()) {
      if (r.status !== 'ENABLED') continue;
      const due = this.dueAt(r, nowMs);
      if (due === undefined) continue;
      const unfinished = [...this.store.runs.values()].filter(
        (run) => run.recurring_run_id === r.recurring_run_id,
      );
      await Promise.all(unfinished.map((run) => this.store.refresh(run)));
      const active = unfinished.filter(
        (run) => !['SUCCEEDED', 'FAILED', 'CANCELED', 'SKIPPED'].includes(run.lastState),
      );
      if (active.length >= Number(r.max_concurrency)) continue;
      r.lastFireMs = r.no_catchup ? nowMs : due;
      const spec =
        r.pipeline_version_reference !== undefined
          ? this.pipelines.resolveReference(r.pipeline_version_reference).pipeline_spec
          : (r.pipeline_spec ?? {});
      const run = await this.store.createRun(
        {
          display_name: `${r.display_name} ${timestamp(due)}`,
          pipeline_spec: spec,
          runtime_config: r.runtime_config,
          experiment_id: r.experiment_id,
          ...(r.service_account !== undefined ? { service_account: r.service_account } : {}),
        },
        null,
      );
      run.recurring_run_id = r.recurring_run_id;
      if (r.pipeline_version_reference !== undefined)
        run.pipeline_version_reference = r.pipeline_version_reference;
      started.push(run.run_id);
    }
    return started;
  }

  /** The time of the schedule's next run after its last one, if that is not after `nowMs`. */
  private dueAt(r: RecurringRunRecord, nowMs: number): number | undefined {
    const interval = obj(r.trigger.periodic_schedule).interval_second;
    if (interval !== undefined) {
      const next = r.lastFireMs + Number(interval) * 1000;
      return next <= nowMs ? next : undefined;
    }
    const sets = parseKfpCron(String(obj(r.trigger.cron_schedule).cron ?? ''));
    if (sets === undefined) return undefined;
    // Whole seconds after the last run, up to now (at most a day back).
    const first = Math.max(Math.floor(r.lastFireMs / 1000) + 1, Math.ceil(nowMs / 1000) - 86_400);
    for (let s = first; s * 1000 <= nowMs; s++) if (cronMatches(sets, s * 1000)) return s * 1000;
    return undefined;
  }
}
