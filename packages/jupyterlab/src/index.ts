/**
 * The Cellflow JupyterLab plugin: wiring only. Library classes do the work; this file registers
 * the sidebar panel, commands, palette items, the notebook toolbar button and settings, and
 * disposes every registration when the plugin is deactivated.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IFormRendererRegistry } from '@jupyterlab/ui-components';
import { DisposableDelegate, DisposableSet } from '@lumino/disposable';
import { createAgentClient } from './agent/agent-connection.js';
import { CellflowController, type CellflowConfig } from './cellflow-controller.js';
import { TAG_FORM_RENDERER, tagFormRenderer } from './cells/tag-metadata-form.js';
import { cellflowIcon } from './cellflow-icon.js';
import { CommandIDs } from './command-ids.js';
import { CellflowPanel } from './panel/cellflow-panel.js';
import { exampleRequestFor, sendPredict } from './serving/notebook-endpoints.js';
import { ICellflowAgent } from './tokens.js';

export { CommandIDs } from './command-ids.js';
export { ICellflowAgent } from './tokens.js';

const PLUGIN_ID = 'cellflow-jupyterlab:plugin';

function readConfig(settings: ISettingRegistry.ISettings | null): CellflowConfig {
  const get = <T>(key: string, fallback: T): T =>
    settings !== null ? ((settings.get(key).composite as T | undefined) ?? fallback) : fallback;
  return {
    agentUrl: get('agentUrl', ''),
    concurrency: get('concurrency', 0),
    diagnosticsDelay: get('diagnosticsDelay', 300),
    runWithoutGpus: get('runWithoutGpus', false),
  };
}

interface CommandSpec {
  readonly label: string;
  readonly caption: string;
  readonly execute: () => unknown;
  readonly isEnabled?: () => boolean;
  readonly isToggled?: () => boolean;
}

let registrations: DisposableSet | null = null;

const plugin: JupyterFrontEndPlugin<ICellflowAgent> = {
  id: PLUGIN_ID,
  description: 'Cellflow: notebook cells as pipeline steps; run, deploy, tune and serve them.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry, NotebookPanel.IContentFactory, IEditorServices],
  optional: [ISettingRegistry, ICommandPalette],
  provides: ICellflowAgent,
  activate: async (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    contentFactory: NotebookPanel.IContentFactory,
    editorServices: IEditorServices,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
  ): Promise<ICellflowAgent> => {
    const disposables = new DisposableSet();
    registrations = disposables;
    const settings =
      settingRegistry !== null ? await settingRegistry.load(PLUGIN_ID).catch(() => null) : null;

    const panel: CellflowPanel = new CellflowPanel({
      execute: (command) => void app.commands.execute(command),
      applyBest: () => void controller.applyBest(),
      cancelRun: (runId: string) => void controller.cancelRun(runId),
      showRunOutputs: (runId: string) => void controller.showRunOutputs(runId),
      setInlineOutputs: (on: boolean) => void controller.setInlineOutputs(on),
      exampleRequest: (endpoint: string) => exampleRequestFor(controller.client, endpoint),
      sendPredict: (endpoint: string, body: string) =>
        sendPredict(controller.client, endpoint, body),
    });
    panel.title.icon = cellflowIcon;
    const controller: CellflowController = new CellflowController(
      {
        tracker,
        panel,
        makeClient: createAgentClient,
        openTab: (widget) => {
          app.shell.add(widget, 'main', { mode: 'split-right' });
          app.shell.activateById(widget.id);
        },
        activate: (id) => {
          for (const widget of app.shell.widgets('main'))
            if (widget.id === id) {
              app.shell.activateById(id);
              return true;
            }
          return false;
        },
        rendering: {
          rendermime,
          contentFactory,
          mimeTypeService: editorServices.mimeTypeService,
        },
      },
      readConfig(settings),
    );
    disposables.add(controller);
    disposables.add(panel);
    app.shell.add(panel, 'left', { rank: 650 });
    if (settings !== null) {
      const onSettings = (): void => controller.configure(readConfig(settings));
      settings.changed.connect(onSettings);
      disposables.add(new DisposableDelegate(() => settings.changed.disconnect(onSettings)));
    }

    const hasNotebook = (): boolean => tracker.currentWidget !== null;
    const commands: Record<string, CommandSpec> = {
      [CommandIDs.runLocally]: {
        label: 'Run Pipeline Locally',
        caption: "Run the notebook as a pipeline on the agent's target",
        execute: () => controller.runCurrent(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.deploy]: {
        label: 'Deploy to Cluster',
        caption: 'Run the notebook as a pipeline on the Kubeflow cluster the agent drives',
        execute: () => controller.deployCurrent(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.tune]: {
        label: 'Tune',
        caption: "Start the notebook's hyperparameter study",
        execute: () => controller.tuneCurrent(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.serve]: {
        label: 'Serve',
        caption: "Serve the model the notebook's latest run trained",
        execute: () => controller.serveCurrent(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.showGraph]: {
        label: 'Show Graph',
        caption: "Show the notebook's pipeline graph",
        execute: () => controller.showGraph(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.cancel]: {
        label: 'Cancel Run',
        caption: "Cancel the notebook's latest run",
        execute: () => controller.cancelCurrent(),
      },
      [CommandIDs.showRunOutputs]: {
        label: 'Show Run Outputs',
        caption:
          "Open the notebook's latest run beside it: every cell with what it showed (read-only)",
        execute: () => controller.showRunOutputs(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.toggleRunOutputsInline]: {
        label: 'Show Run Outputs on Cells',
        caption:
          "Show the latest run's outputs under the notebook's cells (not saved in the notebook)",
        execute: () => controller.setInlineOutputs(),
        isEnabled: hasNotebook,
        isToggled: () => controller.inlineOutputsShown,
      },
      [CommandIDs.editCellTags]: {
        label: 'Edit Cell Tags…',
        caption: 'Edit the Cellflow tags of the active cell',
        execute: () => controller.editTagsOfActiveCell(),
        isEnabled: hasNotebook,
      },
      [CommandIDs.showPanel]: {
        label: 'Show Cellflow Panel',
        caption: 'Show the Cellflow sidebar',
        execute: () => app.shell.activateById(panel.id),
      },
    };
    for (const [id, options] of Object.entries(commands)) {
      disposables.add(
        app.commands.addCommand(id, {
          ...options,
          icon: id === CommandIDs.runLocally ? cellflowIcon : undefined,
        }),
      );
      if (palette !== null) disposables.add(palette.addItem({ command: id, category: 'Cellflow' }));
    }
    disposables.add(
      app.contextMenu.addItem({
        command: CommandIDs.editCellTags,
        selector: '.jp-Notebook .jp-CodeCell',
        rank: 20,
      }),
    );

    // The notebook toolbar button: runs the notebook as a pipeline.
    disposables.add(
      app.docRegistry.addWidgetExtension('Notebook', {
        createNew: (nb: NotebookPanel) => {
          const button = new ToolbarButton({
            icon: cellflowIcon,
            label: 'Run pipeline',
            tooltip: 'Cellflow: run this notebook as a pipeline',
            className: 'cf-toolbar-run',
            onClick: () => void app.commands.execute(CommandIDs.runLocally),
          });
          nb.toolbar.insertItem(10, 'cellflowRun', button);
          return button;
        },
      }),
    );
    return {
      get client() {
        return controller.client;
      },
    };
  },
  deactivate: () => {
    registrations?.dispose();
    registrations = null;
  },
};

/** Cellflow's tag form in the property inspector (schema/tag-form.json declares the metadata form). */
const tagFormPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cellflow-jupyterlab:tag-form',
  description: "Cellflow's tag form as a metadata form of the property inspector.",
  autoStart: true,
  requires: [INotebookTracker, IFormRendererRegistry],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker, forms: IFormRendererRegistry) => {
    forms.addRenderer(TAG_FORM_RENDERER, tagFormRenderer(tracker));
  },
};

export default [plugin, tagFormPlugin];
