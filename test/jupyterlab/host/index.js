// A JupyterLab 4 page for tests, assembled from npm packages the way JupyterLab's examples/app is:
// the core plugins, the prebuilt extensions bootstrap.js loaded, and (in the development page) the
// Cellflow plugin from this checkout, started by a LabServerApp (main.py). As in JupyterLab, a
// prebuilt extension replaces a bundled one of the same name.
import { JupyterLab } from '@jupyterlab/application';

const styles = import('cellflow-test-lab-style');

function pluginsOf(module) {
  const exports = module.default ?? module;
  return Array.isArray(exports) ? exports : [exports];
}

const withoutLanguageServer = (module) =>
  pluginsOf(module).filter(({ id }) => !id.includes(':language-server'));

async function federatedModule(scope, module) {
  const factory = await window._JUPYTERLAB[scope].get(module);
  return factory();
}

export async function main(federated) {
  await styles;
  const federatedNames = new Set(federated.map((data) => data.name));
  const bundled = await import('cellflow-test-lab-bundled');
  const extensions = await Promise.all([
    import('@jupyterlab/application-extension'),
    import('@jupyterlab/apputils-extension'),
    import('@jupyterlab/codemirror-extension'),
    import('@jupyterlab/completer-extension'),
    import('@jupyterlab/docmanager-extension'),
    import('@jupyterlab/documentsearch-extension'),
    import('@jupyterlab/filebrowser-extension'),
    import('@jupyterlab/mainmenu-extension'),
    import('@jupyterlab/markedparser-extension'),
    import('@jupyterlab/metadataform-extension'),
    import('@jupyterlab/notebook-extension').then(withoutLanguageServer),
    import('@jupyterlab/rendermime-extension'),
    import('@jupyterlab/shortcuts-extension'),
    import('@jupyterlab/theme-light-extension'),
    import('@jupyterlab/toc-extension'),
    import('@jupyterlab/translation-extension'),
    import('@jupyterlab/ui-components-extension'),
    ...bundled.extensions.filter(({ name }) => !federatedNames.has(name)).map(({ load }) => load()),
    ...federated
      .filter((data) => data.extension)
      .map((data) => federatedModule(data.name, data.extension)),
  ]);
  await Promise.all(
    federated.filter((data) => data.style).map((data) => federatedModule(data.name, data.style)),
  );
  const lab = new JupyterLab();
  lab.registerPlugins(extensions.flatMap((m) => (Array.isArray(m) ? m : pluginsOf(m))));
  await lab.start();
  await lab.restored;
  document.body.dataset.labReady = 'true';
  window.lab = lab;
}
