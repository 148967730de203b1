/**
 * Deploy's question in JupyterLab: run now, upload as a new version, or schedule (with the
 * schedule's trigger), the choices `@cellflow/ui` defines for both editors; above them, the steps
 * that may fail on the cluster because their image lacks modules they import.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { DEPLOY_CHOICES, SCHEDULE_TRIGGER_PROMPT, type DeployChoiceId } from '@cellflow/ui';

export interface DeployAnswer {
  readonly choice: DeployChoiceId;
  /** With `schedule`: the trigger as typed (the agent reads and checks it). */
  readonly trigger: string;
}

class DeployBody extends Widget implements Dialog.IBodyWidget<DeployAnswer> {
  constructor(target: string, warnings: readonly string[]) {
    super();
    this.addClass('cf-deploy');
    const form = document.createElement('form');
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
    return { choice: this.choice(), trigger: trigger?.value ?? '' };
  }
}

/** Asks how to deploy, showing `warnings` first; undefined when cancelled. */
export async function askDeployChoice(
  target: string,
  warnings: readonly string[] = [],
): Promise<DeployAnswer | undefined> {
  const result = await showDialog({
    title: 'Cellflow: Deploy',
    body: new DeployBody(target, warnings),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy' })],
  });
  return result.button.accept && result.value !== null ? result.value : undefined;
}
