/**
 * The environment of a test that runs an installed package: this process's environment with every
 * folder of the checkout taken out of its path-like variables, PATH cut down to Node (for the
 * agent) and the system's folders (Debian's Python for steps), and the variables that point a
 * development setup at the checkout unset (undefined: spreading the result over `process.env`
 * still unsets them, as child_process skips undefined values).
 */
import { dirname } from 'node:path';

const DEVELOPMENT_VARIABLES = ['PYTHONPATH', 'CELLFLOW_CLI', 'CELLFLOW_NODE', 'NODE_OPTIONS'];

export function environmentWithoutCheckout(checkout: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    env[name] = value?.includes(checkout)
      ? value
          .split(':')
          .filter((part) => !part.includes(checkout))
          .join(':')
      : value;
  env.PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
  for (const name of DEVELOPMENT_VARIABLES) env[name] = undefined;
  return env;
}
