/**
 * Deploy's questions in JupyterLab, as VS Code asks them: first the cluster (a kubeconfig context
 * the agent can reach, and a namespace), then how: run now, upload as a new version, or schedule
 * (with the trigger), the choices `@cellflow/ui` defines for both editors, with the run's parameter
 * values; above them, each GPU step checked against the cluster (`gpuFitOf`) and the steps that
 * may fail because their image lacks modules they import.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { PipelineParameter } from '@cellflow/core';
import type { KubeContextSummary } from '@cellflow/protocol';
import {
  DEPLOY_CHOICES,
  SCHEDULE_TRIGGER_PROMPT,
  type DeployChoiceId,
  type GpuFit,
} from '@cellflow/ui';

export interface DeployAnswer {
  readonly choice: DeployChoiceId;
  /** With `schedule`: the trigger as typed (the agent reads and checks it). */
  readonly trigger: string;
  /** Each parameter's value as typed (the caller types it against the parameters cell). */
  readonly parameters: Readonly<Record<string, string>>;
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

class DeployBody extends Widget implements Dialog.IBodyWidget<DeployAnswer> {
  constructor(
    target: string,
    warnings: readonly string[],
    gpus: readonly GpuFit[],
    private readonly parameters: readonly PipelineParameter[],
  ) {
    super();
    this.addClass('cf-deploy');
    const form = document.createElement('form');
    if (gpus.length > 0) {
      const box = document.createElement('div');
      box.className = 'cf-deploy-gpus';
      const heading = document.createElement('strong');
      heading.textContent = `GPUs on ${target}:`;
      const list = document.createElement('ul');
      for (const fit of gpus) {
        const item = document.createElement('li');
        item.className = `cf-deploy-gpu cf-mod-${fit.severity}`;
        item.textContent = `${fit.step.name}: ${fit.request}: ${fit.message}`;
        list.appendChild(item);
      }
      box.append(heading, list);
      form.appendChild(box);
    }
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
      radio.checked = i === 0;
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
    trigger.value = '0 6 * * *';
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
        input.value = parameterText(p.default);
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
    return { choice: this.choice(), trigger: trigger?.value ?? '', parameters };
  }
}

/**
 * Asks how to deploy, showing the GPU steps against the cluster and `warnings` first, with the
 * run's parameters; undefined when cancelled.
 */
export async function askDeployChoice(
  target: string,
  warnings: readonly string[] = [],
  gpus: readonly GpuFit[] = [],
  parameters: readonly PipelineParameter[] = [],
): Promise<DeployAnswer | undefined> {
  const result = await showDialog({
    title: 'Cellflow: Deploy',
    body: new DeployBody(target, warnings, gpus, parameters),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy' })],
  });
  return result.button.accept && result.value !== null ? result.value : undefined;
}
