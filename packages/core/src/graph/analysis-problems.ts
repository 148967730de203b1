/** What an analysis of cells reports as it is: syntax errors, and `import *`. */
import { excerptOfLine, type Diagnostic } from '../diagnostics.js';
import type { CodeAnalysis } from '../python/analyze-python.js';

export function problemsOfAnalysis(analysis: CodeAnalysis): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const e of analysis.syntaxErrors) {
    diagnostics.push({
      severity: 'error',
      code: 'syntax-error',
      cell: e.cell,
      line: e.line,
      message:
        e.tooDeep !== undefined
          ? `This line is nested too deeply: ${e.tooDeep}. Fix: split the expression into named parts (intermediate variables or a loop).`
          : `Python syntax error: \`${excerptOfLine(e.text)}\`. Fix: correct the line (run the cell in the notebook to see Python's message).`,
    });
  }
  for (const s of analysis.starImports) {
    diagnostics.push({
      severity: 'warning',
      code: 'import-star',
      cell: s.cell,
      line: s.line,
      message:
        s.name === '%run'
          ? `\`%run\` hides which names the file defines, so Cellflow cannot check them; it runs the file again in each later step. Fix: import the names you use from the file explicitly (\`from helpers import clean\`).`
          : `\`import *\` hides which names it defines, so Cellflow cannot check them. Fix: import the names you use explicitly.`,
    });
  }
  return diagnostics;
}
