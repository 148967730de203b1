// Reads the page config (the `jupyter-config-data` script) before @jupyterlab/coreutils may load.
let config;

export function getOption(name) {
  if (config === undefined) {
    const el = document.getElementById('jupyter-config-data');
    config = el ? JSON.parse(el.textContent || '{}') : {};
  }
  return config[name] ?? '';
}
