// A JupyterLab 4 page for tests, assembled from npm packages the way JupyterLab's examples/app is:
// the core plugins plus the Cellflow plugin, started by a LabServerApp (main.py).
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// The public path must be set before any CSS asset loads.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

const styles = import('cellflow-test-lab-style');

function pluginsOf(module) {
  const exports = module.default ?? module;
  return Array.isArray(exports) ? exports : [exports];
}

const withoutLanguageServer = (module) =>
  pluginsOf(module).filter(({ id }) => !id.includes(':language-server'));

window.addEventListener('load', async () => {
  await styles;
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
    import('cellflow-jupyterlab'),
  ]);
  const lab = new JupyterLab();
  lab.registerPlugins(extensions.flatMap((m) => (Array.isArray(m) ? m : pluginsOf(m))));
  await lab.start();
  await lab.restored;
  document.body.dataset.labReady = 'true';
  window.lab = lab;
});
