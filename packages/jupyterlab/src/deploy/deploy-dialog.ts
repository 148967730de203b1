/**
 * Deploy's questions in JupyterLab, as VS Code asks them: first the cluster (a kubeconfig context
 * the agent can reach, and a namespace), then how: run now, upload as a new version, or schedule
 * (with the trigger), the choices `@cellflow/ui` defines for both editors, with the run's parameter
 * values; above them, each GPU step checked against the cluster (`gpuFitOf`), with another GPU
 * request to choose (`gpuChoicesOf`: a product the cluster offers, any GPU, none, and how many),
 * and the steps that may fail because their image lacks modules they import.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { PipelineParameter } from '@cellflow/core';
import type { KubeContextSummary } from '@cellflow/protocol';
import {
  DEPLOY_CHOICES,
  GPU_COUNT_RULE,
  SCHEDULE_TRIGGER_PROMPT,
  suggestedGpuCount,
  type DeployChoiceId,
  type GpuChoice,
  type GpuFit,
} from '@cellflow/ui';

/** A GPU step whose request the user changed in the dialog. */
export interface GpuChange {
  readonly step: string;
  readonly choice: GpuChoice;
  /** The count as typed (the caller checks it with `parseGpuCount`). */
  readonly count: string;
}

export interface DeployAnswer {
  readonly choice: DeployChoiceId;
  /** With `schedule`: the trigger as typed (the agent reads and checks it). */
  readonly trigger: string;
  /** Each parameter's value as typed (the caller types it against the parameters cell). */
  readonly parameters: Readonly<Record<string, string>>;
  /** GPU requests to write into the steps' `gpu:` tags before deploying (empty: keep them). */
  readonly gpuChanges: readonly GpuChange[];
}

/** What the Deploy dialog shows and asks. */
export interface DeployQuestion {
  /** The target in words ("cluster context `admin` (namespace kubeflow)"). */
  readonly target: string;
  /** Steps that may fail on the cluster (their image lacks modules they import). */
  readonly warnings?: readonly string[];
  /** Each GPU step against the cluster. */
  readonly gpus?: readonly GpuFit[];
  /** What a GPU step may ask for instead (`gpuChoicesOf` the cluster's pools). */
  readonly gpuChoices?: readonly GpuChoice[];
  readonly parameters?: readonly PipelineParameter[];
  /** The answer given before (the dialog asks again after a GPU change): its choice and values. */
  readonly previous?: DeployAnswer;
}

export interface DeployWhere {
  readonly context: string;
  readonly namespace: string;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

class TargetBody extends Widget implements Dialog.IBodyWidget<DeployWhere> {
  constructor(contexts: readonly KubeContextSummary[], preferred: Partial<DeployWhere>) {
    super();
    this.addClass('cf-deploy-target');
    const form = document.createElement('form');
    const select = document.createElement('select');
    select.name = 'context';
    select.className = 'jp-mod-styled';
    const first =
      contexts.find((c) => c.name === preferred.context) ?? contexts.find((c) => c.current);
    for (const c of contexts) {
      const option = document.createElement('option');
      option.value = c.name;
      option.textContent = `${c.name} (cluster ${c.cluster}${c.current ? ', current' : ''})`;
      option.selected = c === first;
      select.appendChild(option);
    }
    const namespace = document.createElement('input');
    namespace.name = 'namespace';
    namespace.className = 'jp-mod-styled';
    namespace.title =
      'Namespace for the run (your Kubeflow profile namespace on multi-user clusters)';
    const suggest = (): void => {
      const c = contexts.find((x) => x.name === select.value);
      namespace.value =
        (select.value === preferred.context ? preferred.namespace : undefined) ??
        c?.namespace ??
        'kubeflow';
    };
    suggest();
    select.addEventListener('change', suggest);
    const contextRow = document.createElement('label');
    contextRow.className = 'cf-deploy-choice';
    contextRow.append('Kubernetes context: ', select);
    const namespaceRow = document.createElement('label');
    namespaceRow.className = 'cf-deploy-choice';
    namespaceRow.append('Namespace: ', namespace);
    form.append(contextRow, namespaceRow);
    form.addEventListener('submit', (event) => event.preventDefault());
    this.node.appendChild(form);
  }

  getValue(): DeployWhere {
    const value = (name: string): string =>
      this.node.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)?.value ??
      '';
    return { context: value('context'), namespace: value('namespace').trim() };
  }
}

/**
 * Which cluster to deploy to: a context of the agent's kubeconfig and a namespace (checked);
 * undefined when cancelled.
 */
export async function askDeployTarget(
  contexts: readonly KubeContextSummary[],
  preferred: Partial<DeployWhere>,
): Promise<DeployWhere | undefined> {
  for (;;) {
    const result = await showDialog({
      title: 'Cellflow: Deploy — cluster',
      body: new TargetBody(contexts, preferred),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Next' })],
    });
    if (!result.button.accept || result.value === null) return undefined;
    if (NAMESPACE.test(result.value.namespace)) return result.value;
    await showDialog({
      title: 'Cellflow: not a namespace',
      body: `"${result.value.namespace}" is not a Kubernetes namespace: lowercase letters, digits and -, starting and ending with a letter or digit.`,
      buttons: [Dialog.okButton()],
    });
    preferred = result.value;
  }
}

/** The text a parameter's value is edited as (`0.3`, `true`, `rbf`, `[1, 2]`). */
function parameterText(value: PipelineParameter['default']): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The GPU step rows: the request and its fit, and a choice of another request with its count. */
function gpuRows(
  target: string,
  gpus: readonly GpuFit[],
  choices: readonly GpuChoice[],
): HTMLElement {
  const box = document.createElement('div');
  box.className = 'cf-deploy-gpus';
  const heading = document.createElement('strong');
  heading.textContent = `GPUs on ${target}:`;
  const list = document.createElement('ul');
  for (const fit of gpus) {
    const item = document.createElement('li');
    item.className = `cf-deploy-gpu cf-mod-${fit.severity}`;
    item.dataset['step'] = fit.step.name;
    const text = document.createElement('span');
    text.className = 'cf-deploy-gpu-fit';
    text.textContent = `${fit.step.name}: ${fit.request}: ${fit.message}`;
    item.appendChild(text);
    if (choices.length > 0) {
      const select = document.createElement('select');
      select.name = `gpu-${fit.step.name}`;
      select.className = 'jp-mod-styled';
      select.title = `Change the gpu: tag of step ${fit.step.name}`;
      const keep = document.createElement('option');
      keep.value = '';
      keep.textContent = fit.severity === 'error' ? 'Change to…' : `Keep ${fit.request}`;
      select.appendChild(keep);
      for (const choice of choices) {
        const option = document.createElement('option');
        option.value = choice.id;
        option.textContent = `${choice.label} (${choice.description})`;
        select.appendChild(option);
      }
      const count = document.createElement('input');
      count.name = `gpu-count-${fit.step.name}`;
      count.className = 'jp-mod-styled cf-deploy-gpu-count';
      count.title = `How many GPUs: ${GPU_COUNT_RULE.toLowerCase()}`;
      count.size = 4;
      const sync = (): void => {
        const choice = choices.find((c) => c.id === select.value);
        count.disabled = choice === undefined || choice.gpu === null;
        count.value = choice !== undefined ? String(suggestedGpuCount(fit.step, choice)) : '';
      };
      select.addEventListener('change', sync);
      sync();
      const change = document.createElement('label');
      change.className = 'cf-deploy-gpu-change';
      change.append(select, ' × ', count);
      item.appendChild(change);
    }
    list.appendChild(item);
  }
  box.append(heading, list);
  return box;
}

class DeployBody extends Widget implements Dialog.IBodyWidget<DeployAnswer> {
  private readonly parameters: readonly PipelineParameter[];
  private readonly gpus: readonly GpuFit[];
  private readonly gpuChoices: readonly GpuChoice[];

  constructor(question: DeployQuestion) {
    super();
    const { target, previous } = question;
    const warnings = question.warnings ?? [];
    this.gpus = question.gpus ?? [];
    this.gpuChoices = question.gpuChoices ?? [];
    this.parameters = question.parameters ?? [];
    const parameters = this.parameters;
    this.addClass('cf-deploy');
    const form = document.createElement('form');
    if (this.gpus.length > 0) form.appendChild(gpuRows(target, this.gpus, this.gpuChoices));
    if (warnings.length > 0) {
      const box = document.createElement('div');
      box.className = 'cf-deploy-warnings';
      const heading = document.createElement('strong');
      heading.textContent = 'These steps may fail on the cluster:';
      const list = document.createElement('ul');
      for (const warning of warnings) {
        const item = document.createElement('li');
        item.textContent = warning;
        list.appendChild(item);
      }
      box.append(heading, list);
      form.appendChild(box);
    }
    const intro = document.createElement('p');
    intro.textContent = `Deploy to ${target}:`;
    form.appendChild(intro);
    for (const [i, choice] of DEPLOY_CHOICES.entries()) {
      const row = document.createElement('label');
      row.className = 'cf-deploy-choice';
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'choice';
      radio.value = choice.id;
      radio.checked = previous !== undefined ? choice.id === previous.choice : i === 0;
      const text = document.createElement('span');
      const label = document.createElement('strong');
      label.textContent = choice.label;
      const detail = document.createElement('small');
      detail.textContent = choice.detail;
      text.append(label, document.createElement('br'), detail);
      row.append(radio, text);
      form.appendChild(row);
    }
    const trigger = document.createElement('input');
    trigger.className = 'jp-mod-styled cf-deploy-trigger';
    trigger.name = 'trigger';
    trigger.value = previous?.trigger ?? '0 6 * * *';
    trigger.title = SCHEDULE_TRIGGER_PROMPT;
    trigger.placeholder = SCHEDULE_TRIGGER_PROMPT;
    const triggerRow = document.createElement('label');
    triggerRow.className = 'cf-deploy-choice';
    triggerRow.append('Schedule: ', trigger);
    form.appendChild(triggerRow);
    if (parameters.length > 0) {
      const box = document.createElement('fieldset');
      box.className = 'cf-deploy-parameters';
      const legend = document.createElement('legend');
      legend.textContent = 'Parameters (run now and schedule)';
      box.appendChild(legend);
      for (const p of parameters) {
        const input = document.createElement('input');
        input.className = 'jp-mod-styled';
        input.name = `param-${p.name}`;
        input.value = previous?.parameters[p.name] ?? parameterText(p.default);
        const row = document.createElement('label');
        row.className = 'cf-deploy-choice';
        row.append(`${p.name} (${p.type}): `, input);
        box.appendChild(row);
      }
      form.appendChild(box);
    }
    const sync = (): void => {
      trigger.disabled = this.choice() !== 'schedule';
    };
    form.addEventListener('change', sync);
    form.addEventListener('submit', (event) => event.preventDefault());
    this.node.appendChild(form);
    sync();
  }

  private choice(): DeployChoiceId {
    const checked = this.node.querySelector<HTMLInputElement>('input[name="choice"]:checked');
    return (checked?.value as DeployChoiceId | undefined) ?? 'run';
  }

  getValue(): DeployAnswer {
    const trigger = this.node.querySelector<HTMLInputElement>('input[name="trigger"]');
    const parameters = Object.fromEntries(
      this.parameters.map((p) => [
        p.name,
        this.node.querySelector<HTMLInputElement>(`input[name="param-${p.name}"]`)?.value ?? '',
      ]),
    );
    const gpuChanges = this.gpus.flatMap((fit): GpuChange[] => {
      const name = fit.step.name;
      const chosen = this.node.querySelector<HTMLSelectElement>(`select[name="gpu-${name}"]`);
      const choice = this.gpuChoices.find((c) => c.id === chosen?.value);
      if (choice === undefined) return [];
      const count = this.node.querySelector<HTMLInputElement>(`input[name="gpu-count-${name}"]`);
      return [{ step: name, choice, count: count?.value ?? '' }];
    });
    return { choice: this.choice(), trigger: trigger?.value ?? '', parameters, gpuChanges };
  }
}

/**
 * Asks how to deploy, showing the GPU steps against the cluster (each with another request to
 * choose) and the warnings first, with the run's parameters; undefined when cancelled.
 */
export async function askDeployChoice(question: DeployQuestion): Promise<DeployAnswer | undefined> {
  const result = await showDialog({
    title: 'Cellflow: Deploy',
    body: new DeployBody(question),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy' })],
  });
  return result.button.accept && result.value !== null ? result.value : undefined;
}
