/** The only reader of Cellflow's settings (`cellflow.*` in the manifest). */
import * as vscode from 'vscode';

export class Config {
  static readonly section = 'cellflow';

  private get settings(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Config.section);
  }

  /** Python for local steps; undefined lets the backend discover one. */
  get python(): string | undefined {
    const v = this.settings.get<string>('python', '').trim();
    return v === '' ? undefined : v;
  }

  /** Steps running at once locally; undefined means the machine's cores. */
  get concurrency(): number | undefined {
    const v = this.settings.get<number>('concurrency', 0);
    return v > 0 ? v : undefined;
  }

  get defaultImage(): string | undefined {
    const v = this.settings.get<string>('defaultImage', '').trim();
    return v === '' ? undefined : v;
  }

  /** Local runs start steps that ask for GPUs without them instead of refusing the run. */
  get runWithoutGpus(): boolean {
    return this.settings.get<boolean>('run.withoutGpus', false);
  }

  /** Kubeconfig file; undefined: KUBECONFIG, then ~/.kube/config. */
  get kubeconfig(): string | undefined {
    return this.settings.get<string>('cluster.kubeconfig', '').trim() || undefined;
  }

  /** Kubeconfig context; undefined: the kubeconfig's current one. */
  get clusterContext(): string | undefined {
    return this.settings.get<string>('cluster.context', '').trim() || undefined;
  }

  /** Namespace for cluster runs; undefined: the context's, else `kubeflow`. */
  get clusterNamespace(): string | undefined {
    return this.settings.get<string>('cluster.namespace', '').trim() || undefined;
  }

  /** Turns `cellflow.run.withoutGpus` on or off (user settings: it is about this machine). */
  async setRunWithoutGpus(on: boolean): Promise<void> {
    await this.settings.update('run.withoutGpus', on, vscode.ConfigurationTarget.Global);
  }

  /** Sets the kubeconfig file (workspace settings when a folder is open, else user settings). */
  async setKubeconfig(path: string): Promise<void> {
    await this.settings.update('cluster.kubeconfig', path, Config.writeTarget());
  }

  private static writeTarget(): vscode.ConfigurationTarget {
    return vscode.workspace.workspaceFolders !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  }

  /** Remembers the context and namespace picked in a deploy or Switch Context (workspace settings, else user settings). */
  async rememberCluster(context: string, namespace: string): Promise<void> {
    await this.settings.update('cluster.context', context, vscode.ConfigurationTarget.Workspace);
    await this.settings.update(
      'cluster.namespace',
      namespace,
      vscode.ConfigurationTarget.Workspace,
    );
  }

  get kfpEndpoint(): string | undefined {
    return this.settings.get<string>('kfp.endpoint') || undefined;
  }

  /** Milliseconds between the last edit and re-checking the notebook. */
  get diagnosticsDelay(): number {
    return this.settings.get<number>('diagnostics.delay', 300);
  }

  static affectsCluster(e: vscode.ConfigurationChangeEvent): boolean {
    return (
      e.affectsConfiguration('cellflow.cluster.kubeconfig') ||
      e.affectsConfiguration('cellflow.kfp.endpoint')
    );
  }

  static affectsLocalBackend(e: vscode.ConfigurationChangeEvent): boolean {
    return (
      e.affectsConfiguration('cellflow.python') || e.affectsConfiguration('cellflow.concurrency')
    );
  }
}
