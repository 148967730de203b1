/**
 * The "VS Code executable" the in-host suite gives `@vscode/test-electron`'s `runTests`
 * (`vscodeExecutablePath`, through the `code-server-launcher` shell script beside this file):
 * runTests starts it as it would start VS Code, with `--extensionDevelopmentPath=`,
 * `--extensionTestsPath=` and the folder to open. It starts code-server with the smoke-test driver
 * (see code-server.ts), opens the workbench in headless Chromium with those two paths as the URL's
 * `payload`, prints what the workbench logs (`codeAutomationLog`), and exits with the code the
 * suite reports (`codeAutomationExit`) once code-server is stopped, as VS Code's own exit would.
 *
 * What VS Code takes as settings comes from the environment runTests passes
 * (`extensionTestsEnv`): CELLFLOW_CODE_SERVER_SETTINGS (user settings as JSON) and
 * CELLFLOW_CODE_SERVER_UNTRUSTED=1 (workspace trust on, the folder not trusted; runTests always
 * passes `--disable-workspace-trust`). Profile folders (`--user-data-dir`, `--extensions-dir`) are
 * always fresh temp folders, removed at the end. CELLFLOW_CODE_SERVER_LOG names a file that gets
 * the workbench's and code-server's logs, for the test's failure message.
 */
import { writeFileSync } from 'node:fs';
import { startCodeServer } from './code-server.js';

function argument(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(args: readonly string[]): Promise<number> {
  const development = argument(args, 'extensionDevelopmentPath');
  const tests = argument(args, 'extensionTestsPath');
  const folder = args.find((a) => !a.startsWith('-'));
  if (development === undefined || tests === undefined || folder === undefined) {
    console.error(
      `code-server-launcher: expected --extensionDevelopmentPath=, --extensionTestsPath= and a folder, got: ${args.join(' ')}`,
    );
    return 2;
  }
  const settings = JSON.parse(process.env.CELLFLOW_CODE_SERVER_SETTINGS ?? '{}') as Record<
    string,
    unknown
  >;
  const server = await startCodeServer({
    workspace: folder,
    settings,
    untrusted: process.env.CELLFLOW_CODE_SERVER_UNTRUSTED === '1',
  });
  const logs: string[] = [];
  const stop = async (): Promise<void> => {
    await server.stop();
    const file = process.env.CELLFLOW_CODE_SERVER_LOG;
    if (file !== undefined)
      writeFileSync(
        file,
        `--- workbench ---\n${logs.join('\n')}\n--- code-server ---\n${server.log()}`,
      );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void stop().then(() => process.exit(1));
    });
  try {
    return await new Promise<number>((resolve, reject) => {
      server
        .open(
          [
            ['extensionDevelopmentPath', `vscode-remote://remote${development}`],
            ['extensionTestsPath', `vscode-remote://remote${tests}`],
          ],
          async (page) => {
            await page.exposeFunction('codeAutomationLog', (type: string, values: unknown[]) => {
              const line = `${type}: ${values.map(String).join(' ')}`;
              logs.push(line);
              console.log(line);
            });
            await page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
          },
        )
        .catch(reject);
    });
  } finally {
    await stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
