/**
 * Turns IPython-only syntax (`%magic`, `%%cell magic`, `!shell`, `x?`) into plain Python that
 * calls the step runtime (`__cellflow__`), keeping every line on its line so that analysis,
 * tracebacks and diagnostics point at the user's own line numbers.
 */
import { BoundedCache } from './bounded-cache.js';
import { parsePython } from './parse-python.js';

export interface MagicNote {
  /** 1-based line in the cell. */
  readonly line: number;
  /** Its diagnostic's code (the catalogue gives its severity). */
  readonly code: 'unsupported-magic';
  readonly message: string;
}

export interface PlainPython {
  readonly code: string;
  readonly notes: readonly MagicNote[];
  /** `%env NAME=VALUE` lines: process state that later steps (new processes) must also get. */
  readonly env: readonly { readonly name: string; readonly value: string }[];
}

/**
 * Cell magics of IPython and of the extensions notebooks load (`%%cython`, `%%R`, `%%sql`): not a
 * notebook's own.
 */
const IPYTHON_CELL_MAGICS = new Set(
  (
    'HTML SVG bash capture code_wrap debug file html javascript js latex markdown perl prun pypy ' +
    'python python2 python3 ruby script sh svg sx system time timeit writefile cython cython_inline ' +
    'cython_pyximport R Rpush sql memit mprun lprun ai spark local configure julia octave matlab ' +
    'sparksql pyspark info send_to_spark cleanup delete logs help ipytest tensorflow dot'
  ).split(' '),
);

/** Extensions that change only the interactive session (`%load_ext autoreload`): nothing to load. */
const SESSION_EXTENSIONS =
  /^(autoreload|storemagic|line_profiler|memory_profiler|Cython|cython|sql|rpy2(\..*)?|watermark|tensorboard|version_information|google(\..*)?|nb_black|lab_black|jupyter_black|dotenv|pycodestyle_magic|flake8_magic|ipython_unittest|snakeviz|heat|ipytest|jupyter_ai(_magics)?|sympy(\..*)?|cudf(\..*)?|kedro(\..*)?|py-?spy|nbtutor|itikz|gvmagic|jupyter_spaces)$/;

/** Line magics that only change the interactive session; in a pipeline step they do nothing. */
const SESSION_MAGICS = new Set([
  'matplotlib',
  'load_ext',
  'reload_ext',
  'unload_ext',
  'autoreload',
  'aimport',
  'pylab',
  'who',
  'whos',
  'who_ls',
  'lsmagic',
  'history',
  'colors',
  'magic',
  'quickref',
  'automagic',
  'autocall',
  'doctest_mode',
  'reset',
  'reset_selective',
  'clear',
  'page',
  'pinfo',
  'pinfo2',
  'pdoc',
  'pdef',
  'psource',
  'pfile',
  'notebook',
  'connect_info',
  'qtconsole',
  'alias_magic',
  'store',
  'bookmark',
  'dhist',
  'dirs',
  'debug',
  'pdb',
  'tb',
  'rehashx',
  'logstart',
  'logstop',
  'logon',
  'logoff',
  'logstate',
  'load',
  'save',
  'edit',
  'recall',
  'rerun',
  'macro',
  'sx',
]);

/**
 * Every line magic an IPython kernel has (IPython's and ipykernel's, with the shell aliases): in
 * a cell of one line, `name rest` runs `%name rest` when nothing shadows the name (automagic).
 */
const LINE_MAGICS = new Set(
  (
    'alias alias_magic autoawait autocall automagic autosave bookmark cat cd clear colors conda ' +
    'config connect_info cp debug dhist dirs doctest_mode ed edit env gui hist history ' +
    'killbgscripts ldir less lf lk ll load load_ext loadpy logoff logon logstart logstate logstop ' +
    'ls lsmagic lx macro magic man matplotlib mkdir more mv notebook page pastebin pdb pdef pdoc ' +
    'pfile pinfo pinfo2 pip popd pprint precision prun psearch psource pushd pwd pycat pylab ' +
    'qtconsole quickref recall rehashx reload_ext rep rerun reset reset_selective rm rmdir run ' +
    'save sc set_env sx system tb time timeit unalias unload_ext who who_ls whos xdel xmode'
  ).split(' '),
);
/**
 * Magic names that are valid Python alone and rarely a notebook's own variable: a cell holding
 * only one of them runs the magic, as IPython's automagic does. (Others alone stay Python.)
 */
const BARE_AUTOMAGIC = new Set([
  'pwd',
  'ls',
  'll',
  'lsmagic',
  'who',
  'whos',
  'who_ls',
  'dhist',
  'dirs',
]);
/** IPython's shell aliases on Linux, as `%alias` lists them: `%l` takes the line's arguments. */
const SHELL_ALIASES: Readonly<Record<string, string>> = {
  mkdir: 'mkdir',
  rmdir: 'rmdir',
  mv: 'mv',
  rm: 'rm',
  cp: 'cp',
  cat: 'cat',
  ls: 'ls -F --color',
  ll: 'ls -F -o --color',
  lf: 'ls -F -o --color %l | grep ^-',
  lk: 'ls -F -o --color %l | grep ^l',
  ldir: 'ls -F -o --color %l | grep /$',
  lx: 'ls -F -o --color %l | grep ^-..x',
};

/** A shell alias's command with the line's arguments. */
function aliasCommand(alias: string, rest: string): string {
  const command = SHELL_ALIASES[alias]!;
  return command.includes('%l') ? command.replace('%l', rest) : `${command} ${rest}`.trimEnd();
}

/**
 * IPython's automagic, for a cell of one line: `ls data/`, `cd ..`, `pip install x`, `pwd`. The
 * line is read as Python unless it is not valid Python (or is one of `BARE_AUTOMAGIC` alone) and
 * starts with a magic's name not followed by `=` or `,`. Null: the line is Python.
 */
function automagicLine(line: string): string | null {
  const match = /^(\s*)([A-Za-z_]\w*)(?![\w.*])\s*(.*)$/.exec(line);
  if (match === null || !LINE_MAGICS.has(match[2]!)) return null;
  const rest = match[3]!;
  // `timeit?` asks for help, which IPython reads first.
  if (rest.startsWith('=') || rest.startsWith(',') || rest.startsWith('?')) return null;
  if (rest === '' && BARE_AUTOMAGIC.has(match[2]!)) return `${match[1]}%${match[2]}`;
  return timedKind(line.trim()) === null && !isCompoundStart(line)
    ? `${match[1]}%${match[2]} ${rest}`.trimEnd()
    : null;
}

/** A line that opens a block (`for x in y:`): Python's, even when it cannot stand alone. */
function isCompoundStart(line: string): boolean {
  return /^\s*(if|elif|else|for|while|with|try|except|finally|def|class|async|match|case)\b/.test(
    line,
  );
}

/** Cell magics whose body is markup to show (`%%html`: IPython's `display(HTML(body))`). */
const DISPLAY_CELL_MAGICS = new Set([
  'html',
  'markdown',
  'javascript',
  'js',
  'latex',
  'svg',
  'HTML',
]);
/** `%pylab`: the modules IPython's `import_pylab` binds, and its star imports. */
const PYLAB_IMPORTS =
  'import numpy; import matplotlib; from matplotlib import pylab, mlab, pyplot; import numpy as np; import matplotlib.pyplot as plt';
const PYLAB_STAR = '; from pylab import *; from numpy import *';
/** What IPython's `%pylab` prints once it has imported. */
const PYLAB_BANNER =
  '; __cellflow__.print_lines("%pylab is deprecated, use %matplotlib inline and import the required libraries.", "Populating the interactive namespace from numpy and matplotlib")';

/** The class whose body runs a `%timeit` statement, so that its bindings stay inside. */
const TIMEIT_SCOPE = '_cellflow_timeit';
/** Cell magics that run their body as Python. */
const PYTHON_CELL_MAGICS = new Set(['time', 'timeit', 'prun', 'debug']);
/** IPython's script magics: `%%perl` is `%%script perl`, the cell's body the program's input. */
const SCRIPT_CELL_MAGICS = new Set([
  'script',
  'sh',
  'bash',
  'perl',
  'ruby',
  'python',
  'python2',
  'python3',
  'pypy',
]);
/** `%%script` options that hand the program's pipes or process to the notebook. */
const SCRIPT_PIPE_OPTIONS = new Set(['--bg', '--proc']);

/**
 * A script magic's line as IPython reads it: the program and its arguments (words, quotes
 * removed), whether a nonzero exit raises, the names `--out` and `--err` bind the program's
 * output to, and the first option that keeps the pipes open.
 */
function scriptCommand(
  magic: string,
  args: string,
): {
  argv: string[];
  raiseError: boolean;
  out: string | null;
  err: string | null;
  pipeOption: string | null;
} {
  const words = [...args.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );
  const argv = magic === 'script' ? [] : [magic];
  let raiseError = true;
  let pipeOption: string | null = null;
  const kept = { out: null as string | null, err: null as string | null };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const [option, value] = w.split('=', 2) as [string, string | undefined];
    if (w === '--no-raise-error') raiseError = false;
    else if (option === '--out' || option === '--err') {
      const name = value ?? words[++i] ?? '';
      if (/^[A-Za-z_]\w*$/.test(name)) kept[option === '--out' ? 'out' : 'err'] = name;
      else pipeOption ??= option;
    } else if (SCRIPT_PIPE_OPTIONS.has(option)) pipeOption ??= option;
    else argv.push(w);
  }
  return { argv, raiseError, ...kept, pipeOption };
}

function pyString(text: string): string {
  return JSON.stringify(text);
}

/** `!cmd {x}` interpolates Python expressions like IPython does; other braces stay literal. */
function shellCommandLiteral(command: string): string {
  let hasField = false;
  const escaped = command.replace(
    /\{([^{}]*)\}|[{}]/g,
    (match: string, inner: string | undefined) => {
      if (inner !== undefined && /^[A-Za-z_][\w.]*(\[[^\]]+\])?$/.test(inner.trim())) {
        hasField = true;
        return `{${inner.trim()}}`;
      }
      return match.replace(/\{/g, '{{').replace(/\}/g, '}}');
    },
  );
  return hasField ? `f${pyString(escaped)}` : pyString(command);
}

/** A line's code and its trailing comment (with the spaces before it), quotes respected. */
function splitComment(line: string): { code: string; comment: string } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== null) {
      if (ch === '\\') i++;
      else if (line.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = null;
      }
    } else if (ch === '"' || ch === "'") {
      quote = line.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      i += quote.length - 1;
    } else if (ch === '#') {
      const code = line.slice(0, i).trimEnd();
      return { code, comment: line.slice(code.length) };
    }
  }
  return { code: line.trimEnd(), comment: line.slice(line.trimEnd().length) };
}

/** Statements that hold a block: they cannot follow `with ...:` on its line. */
const COMPOUND = new Set([
  'IfStatement',
  'ForStatement',
  'WhileStatement',
  'WithStatement',
  'TryStatement',
  'MatchStatement',
  'FunctionDefinition',
  'ClassDefinition',
  'DecoratedStatement',
]);

/** What a one-line `%time` code is: an expression (its value shows), simple statements, other. */
function timedKind(code: string): 'expression' | 'statements' | null {
  const tree = parsePython(code);
  const top = tree.topNode;
  const statement = top.firstChild;
  if (statement === null || statement.nextSibling !== null) return null;
  let error = false;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) error = true;
      return !error;
    },
  });
  if (error) return null;
  if (statement.name === 'ExpressionStatement') return 'expression';
  return COMPOUND.has(statement.name) ? null : 'statements';
}

/** Strips `%timeit` options such as `-n 10 -r 3 -q`. */
function stripTimeitOptions(rest: string): string {
  return rest.replace(/^(\s*-(?:[nr]\s*\d+|[qpoc]|[tcp]))+\s*/, '').trim();
}

/**
 * `%run [-i] [-n] [-e] FILE ARGS...` (or `-m MODULE ARGS...`), its words split as a shell
 * would; null for what a pipeline step cannot run (the debugger, the profiler, timing runs).
 */
function runArguments(
  rest: string,
): { target: string; args: string[]; options: Set<string>; module: boolean } | null {
  const words: string[] = [];
  for (const m of rest.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g))
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  const options = new Set<string>();
  let module = false;
  while (words[0]?.startsWith('-') === true) {
    const option = words.shift()!;
    if (option === '-m') {
      module = true;
      break;
    }
    if (!/^-[ineG]+$/.test(option)) return null;
    for (const o of option.slice(1)) options.add(o);
  }
  const target = words.shift();
  return target === undefined ? null : { target, args: words, options, module };
}

/** Strips `%prun` options such as `-s cumulative -l 10 -q`. */
function stripPrunOptions(rest: string): string {
  return rest.replace(/^(\s*-(?:[rq]|[lsTD]\s*\S+))+\s*/, '').trim();
}

/**
 * Where a physical line stands among Python's tokens. As in IPython, only a line that starts a
 * logical line (outside brackets, strings and backslash continuations) can be `%magic`, `!cmd` or
 * `obj?`. String prefixes need no care: raw or not, a backslash keeps the next character in the
 * string. An f-string is one token in Python 3.11, so its braces are not brackets.
 */
interface LexicalState {
  /** Open brackets. */
  readonly depth: number;
  /** The quote of the string the line begins in, if any. */
  readonly quote: string | null;
  /** The previous line ended in a backslash continuation. */
  readonly continued: boolean;
}

const LOGICAL_LINE_START: LexicalState = { depth: 0, quote: null, continued: false };

function startsLogicalLine(state: LexicalState): boolean {
  return state.depth === 0 && state.quote === null && !state.continued;
}

/** The state after one physical line (given without its `\n`; a trailing `\r` is the break's). */
function scanLine(line: string, state: LexicalState): LexicalState {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let { depth, quote } = state;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quote !== null) {
      if (ch === '\\') {
        // An escaped line break keeps even a one-quote string open on the next line.
        if (i === text.length - 1) return { depth, quote, continued: false };
        i += 2;
      } else if (text.startsWith(quote, i)) {
        i += quote.length;
        quote = null;
      } else i++;
    } else if (ch === '#') {
      break;
    } else if (ch === '"' || ch === "'") {
      quote = text.startsWith(ch.repeat(3), i) ? ch.repeat(3) : ch;
      i += quote.length;
    } else if (ch === '\\' && i === text.length - 1) {
      return { depth, quote, continued: true };
    } else {
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
      i++;
    }
  }
  // A one-quote string ends with its line (a syntax error for Python to report, not a magic).
  if (quote !== null && quote.length === 1) quote = null;
  return { depth, quote, continued: false };
}

/** Converted cells by source: an editor's re-check converts only the edited cell again. */
const plainBySource = new BoundedCache<PlainPython>(8192);

export function toPlainPython(source: string): PlainPython {
  return plainBySource.get(source, () => toPlainPythonOnce(source));
}

/** IPython's prompts, stripped from a cell pasted from a session: `>>> ` and `... `, `In [3]: `. */
const PROMPTS: readonly { prompt: RegExp; initial: RegExp }[] = [
  { prompt: /^(>>>|\.\.\.)( |$)/, initial: /^>>>( |$)/ },
  { prompt: /^(In \[\d+\]: | *\.{3,}: ?)/, initial: /^(In \[\d+\]: | *\.{3,}: ?)/ },
];

/**
 * What IPython does to a cell before it reads it: the first line's indentation comes off every
 * line that has it, then a session's prompts off every line, when the cell's first line (or its
 * second) has one. Line numbers stay.
 */
function cleanUpCell(source: string): string {
  const start = /^(?:[ \t]*\n)*([ \t]*)\S/.exec(source);
  if (start === null) return source;
  const indent = start[1]!;
  if (indent === '' && !source.includes('>>>') && !/In \[\d+\]: |\.\.\.:/.test(source))
    return source;
  let lines = source.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (indent !== '')
    lines = lines.map((l, i) => (i >= first && l.startsWith(indent) ? l.slice(indent.length) : l));
  for (const { prompt, initial } of PROMPTS) {
    const second = lines[first + 1];
    if (initial.test(lines[first]!) || (second !== undefined && prompt.test(second)))
      lines = lines.map((l) => l.replace(prompt, ''));
  }
  return lines.join('\n');
}

function toPlainPythonOnce(raw: string): PlainPython {
  const source = cleanUpCell(raw);
  // A cell of one line may be a magic without its `%` (IPython's automagic).
  const oneLine = source.replace(/\n$/, '');
  if (!oneLine.includes('\n')) {
    const magic = automagicLine(oneLine);
    if (magic !== null) return toPlainPythonOnce(source.replace(oneLine, magic));
  }
  // Without `%`, `!` or `?`, or a line starting with a call escape (`/`, `,`, `;`), no line is
  // IPython's own: the cell is plain Python as it is.
  if (!/[%!?]|^[ \t]*[/,;]/m.test(source)) return { code: source, notes: [], env: [] };
  const lines = source.split('\n');
  const notes: MagicNote[] = [];
  const env: { name: string; value: string }[] = [];
  const first = lines.findIndex((l) => l.trim() !== '');
  const firstLine = first >= 0 ? lines[first]!.trim() : '';

  if (firstLine.startsWith('%%')) {
    const match = /^%%(\w+)\s*(.*)$/.exec(firstLine);
    const magic = match?.[1] ?? '';
    const args = (match?.[2] ?? '').trim();
    const body = lines.slice(first + 1).join('\n');
    const padding = (n: number): string[] => Array.from({ length: n }, () => '');
    const head = lines.slice(0, first);
    const line = first + 1;
    if (magic === 'timeit' && body.trim() !== '' && !/'''|"""/.test(body)) {
      // As `%timeit`: the body runs once in a scope of its own.
      const rest = toPlainPython(body);
      const bodyLines = rest.code.split('\n').map((l) => (l.trim() === '' ? l : `    ${l}`));
      // The setup statement after the options (`%%timeit a = f()`) runs first, in the same scope:
      // on the body's first line when that is a simple statement, else on a line of its own.
      const setup = stripTimeitOptions(args);
      if (setup !== '') {
        const at = bodyLines.findIndex((l) => l.trim() !== '');
        const next = bodyLines.slice(at + 1).find((l) => l.trim() !== '');
        const simple =
          at >= 0 &&
          !splitComment(bodyLines[at]!).code.trimEnd().endsWith(':') &&
          !/^\s{5}/.test(next ?? '');
        if (simple) bodyLines[at] = `    ${setup}; ${bodyLines[at]!.trimStart()}`;
        else bodyLines.unshift(`    ${setup}`);
      }
      return {
        code: [
          ...head,
          `class ${TIMEIT_SCOPE}:  # %%timeit ${args}`.trimEnd(),
          bodyLines.join('\n'),
        ].join('\n'),
        notes: rest.notes.map((n) => ({ ...n, line: n.line + line })),
        env: rest.env,
      };
    }
    if (magic === 'capture') {
      // `%%capture [--no-stdout] [--no-stderr] [--no-display] [name]`: the body runs as Python,
      // its output kept in the object the name is bound to, not shown.
      const words = args.split(/\s+/).filter((w) => w !== '');
      const name = words.find((w) => !w.startsWith('-') && /^[A-Za-z_]\w*$/.test(w));
      const flag = (option: string): string => (words.includes(option) ? 'False' : 'True');
      const call = `__cellflow__.capture(stdout=${flag('--no-stdout')}, stderr=${flag('--no-stderr')}, display=${flag('--no-display')})`;
      const rest = toPlainPython(body);
      return {
        code: [...head, name === undefined ? call : `${name} = ${call}`, rest.code].join('\n'),
        notes: rest.notes.map((n) => ({ ...n, line: n.line + line })),
        env: rest.env,
      };
    }
    if (PYTHON_CELL_MAGICS.has(magic)) {
      const rest = toPlainPython(body);
      const restNotes = rest.notes.map((n) => ({ ...n, line: n.line + line }));
      return {
        code: [...head, `# %%${magic} ${args}`.trimEnd(), rest.code].join('\n'),
        notes: restNotes,
        env: rest.env,
      };
    }
    if (magic === 'system') {
      const shell = args.split(/\s+/)[0] || 'sh';
      const call = `__cellflow__.shell(${pyString(body)}, shell=${pyString(shell)})`;
      return { code: [...head, call, ...padding(lines.length - first - 1)].join('\n'), notes, env };
    }
    const script = SCRIPT_CELL_MAGICS.has(magic) ? scriptCommand(magic, args) : null;
    if (script !== null && script.pipeOption === null && script.argv.length > 0) {
      const argv = `[${script.argv.map(pyString).join(', ')}]`;
      // `--out NAME`, `--err NAME`: the program's output goes to the name instead (IPython keeps
      // its last line).
      const keep =
        (script.out !== null ? ', keep_out=True' : '') +
        (script.err !== null ? ', keep_err=True' : '');
      const run = `__cellflow__.script(${pyString(body)}, ${argv}, raise_error=${script.raiseError ? 'True' : 'False'}${keep})`;
      const call =
        script.out !== null && script.err !== null
          ? `${script.out}, ${script.err} = ${run}`
          : script.out !== null
            ? `${script.out} = ${run}[0]`
            : script.err !== null
              ? `${script.err} = ${run}[1]`
              : run;
      return { code: [...head, call, ...padding(lines.length - first - 1)].join('\n'), notes, env };
    }
    if (DISPLAY_CELL_MAGICS.has(magic)) {
      // `%%html`, `%%markdown`, ...: the body shows as that markup, as IPython displays it.
      const call = `__cellflow__.show_markup(${pyString(magic.toLowerCase())}, ${pyString(body)})`;
      return { code: [...head, call, ...padding(lines.length - first - 1)].join('\n'), notes, env };
    }
    if (magic === 'writefile' || magic === 'file') {
      const append = /(^|\s)(-a|--append)(\s|$)/.test(args);
      const path = args.replace(/(^|\s)(-a|--append)(\s|$)/, ' ').trim();
      const call = `__cellflow__.write_file(${pyString(path)}, ${pyString(body + '\n')}, append=${append ? 'True' : 'False'})`;
      return { code: [...head, call, ...padding(lines.length - first - 1)].join('\n'), notes, env };
    }
    if (script === null && /^\w+$/.test(magic) && !IPYTHON_CELL_MAGICS.has(magic)) {
      // Not IPython's: the notebook's own, registered above; its value shows, as in IPython.
      notes.push({
        line,
        code: 'unsupported-magic',
        message: `Cell magic \`%%${magic}\` is not IPython's: it runs where the notebook registers it (\`@register_cell_magic\`, \`%load_ext\` of its own module), else the cell is skipped. Fix: register it above, or rewrite the cell as Python.`,
      });
      const cellText = body.endsWith('\n') ? body : `${body}\n`;
      const call = `__cellflow__.user_cell_magic(${pyString(magic)}, ${pyString(args)}, ${pyString(cellText)})`;
      return { code: [...head, call, ...padding(lines.length - first - 1)].join('\n'), notes, env };
    }
    notes.push({
      line,
      code: 'unsupported-magic',
      message:
        script?.pipeOption != null
          ? `\`%%${magic} ${script.pipeOption}\` hands the program's pipes to the notebook, which a pipeline step cannot keep; the cell is skipped. Fix: drop \`${script.pipeOption}\` to run the program and show its output, or tag the cell \`skip\`.`
          : `Cell magic \`%%${magic}\` cannot run in a pipeline step; the cell is skipped. Fix: rewrite it as Python, or tag the cell \`skip\`.`,
    });
    return { code: lines.map((l) => (l.trim() === '' ? l : `# ${l}`)).join('\n'), notes, env };
  }

  let state = LOGICAL_LINE_START;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!startsLogicalLine(state)) {
      state = scanLine(line, state);
      out.push(line);
      continue;
    }
    // A magic or shell line ending in a backslash goes on on the next line: IPython joins them,
    // each backslash dropped, with a space. The lines it took stay, empty, to keep line numbers.
    const joined = continuedLine(lines, i);
    if (joined !== null) {
      const converted = convertIPythonLine(joined.line, i + 1, notes, env);
      if (converted !== joined.line) {
        out.push(converted, ...Array.from({ length: joined.end - i }, () => ''));
        i = joined.end;
        state = LOGICAL_LINE_START;
        continue;
      }
    }
    const converted = convertIPythonLine(line, i + 1, notes, env);
    // As in IPython, a magic or shell line ends with its line: its quotes and brackets (even
    // those of `%time f(`) do not carry over.
    state = converted === line ? scanLine(line, state) : LOGICAL_LINE_START;
    out.push(converted);
  }
  return { code: out.join('\n'), notes, env };
}

/**
 * Help on `name` (`name?`, `%pinfo name`): the runtime's `pinfo`, which says when the notebook has
 * no such object, as IPython does; `otherwise` for magics and patterns (`np.*load*`).
 */
function helpLine(name: string, otherwise: string): string {
  const dotted = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(name);
  return dotted && !LINE_MAGICS.has(name) && !IPYTHON_CELL_MAGICS.has(name)
    ? `__cellflow__.pinfo(${pyString(name)})`
    : otherwise;
}

/** Line `start` with the lines its trailing backslashes continue it on, as IPython joins them. */
function continuedLine(
  lines: readonly string[],
  start: number,
): { line: string; end: number } | null {
  let end = start;
  while (lines[end]!.endsWith('\\') && end + 1 < lines.length) end++;
  if (end === start) return null;
  const parts = lines.slice(start, end).map((l) => l.slice(0, -1));
  return { line: [...parts, lines[end]!.trimEnd()].join(' '), end };
}

/**
 * IPython's call escapes at the start of a line, as IPython writes them: `/f a b` is `f(a, b)`,
 * `,f a b` is `f("a", "b")` and `;f a b` is `f("a b")`. A lone `;`, which notebooks put on a
 * cell's last line meaning to keep its value from showing, is `("")`: the cell shows `''`, as in
 * IPython. Null for other lines.
 */
function autoCallLine(body: string): string | null {
  const escape = body[0];
  if (escape !== '/' && escape !== ',' && escape !== ';') return null;
  const content = body.slice(1);
  const space = content.indexOf(' ');
  const name = space < 0 ? content : content.slice(0, space);
  const args = space < 0 ? '' : content.slice(space + 1);
  const words = args.split(/\s+/).filter((w) => w !== '');
  const call =
    escape === '/'
      ? `${name}(${words.join(', ')})`
      : escape === ','
        ? `${name}("${words.join('", "')}")`
        : `${name}("${args}")`;
  return call;
}

/** A logical line's `%magic`, `!cmd`, `x = !cmd` or `obj?` as Python; other lines as they are. */
function convertIPythonLine(
  line: string,
  lineNo: number,
  notes: MagicNote[],
  env: { name: string; value: string }[],
): string {
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const body = line.slice(indent.length);
  // `x = !cmd` and `x = %sx cmd`: capture a command's output lines.
  const capture = /^([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*(?:!|%sx\s+)(.*)$/.exec(body);
  if (capture !== null) {
    return `${indent}${capture[1]} = __cellflow__.shell_lines(${shellCommandLiteral(capture[2]!)})`;
  }
  // `x = %magic args`: the magic's value (`%time EXPR`'s value, `%timeit -o`'s result, ...).
  const assigned = /^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*%(\w+)\b\s*(.*)$/.exec(body);
  if (assigned !== null) {
    const [, target, magic, rest] = assigned as unknown as [string, string, string, string];
    const { code, comment } = splitComment(rest);
    if (magic === 'time' && timedKind(code) === 'expression')
      return `${indent}${target} = __cellflow__.timed(__cellflow__.time_start(), (${code}))${comment}`;
    if (magic === 'timeit') {
      const statement = stripTimeitOptions(code);
      const options = code.slice(0, code.length - statement.length);
      // An expression is timed as a lambda, so that the analysis sees the names it reads.
      const timed =
        timedKind(statement) === 'expression'
          ? `lambda: (${statement})`
          : `${pyString(statement)}, globals()`;
      return `${indent}${target} = __cellflow__.timeit_value(${timed}, output=${/-\w*o/.test(options) ? 'True' : 'False'}, quiet=${/-\w*q/.test(options) ? 'True' : 'False'})${comment}`;
    }
    const helper =
      LINE_MAGICS.has(magic) || SESSION_MAGICS.has(magic) ? 'line_magic' : 'user_magic';
    return `${indent}${target} = __cellflow__.${helper}(${pyString(magic)}, ${pyString(rest.trim())})`;
  }
  // `!!cmd` is `%sx cmd`: the command's output lines are its value.
  if (body.startsWith('!!'))
    return `${indent}__cellflow__.shell_lines(${shellCommandLiteral(body.slice(2))})`;
  if (body.startsWith('!'))
    return `${indent}__cellflow__.shell(${shellCommandLiteral(body.slice(1))}, terminal=True)`;
  const autoCall = autoCallLine(body);
  if (autoCall !== null) return `${indent}${autoCall}`;
  // Help (`obj?`, `?obj`, `%magic??`, `np.*load*?`, a lone `?`): IPython shows it in its pager,
  // which no cell output keeps; of a name the notebook lacks it says so.
  if (/^(\?\??(%{0,2}[\w.*]+)?|%{0,2}[\w.*]+\?\??)\s*$/.test(body))
    return `${indent}${helpLine(body.replace(/\?/g, '').trim(), `pass  # help: ${body}`)}`;
  if (body.startsWith('%') && !body.startsWith('%%')) {
    const m = /^%(\w+)\s*(.*)$/.exec(body);
    const magic = m?.[1] ?? '';
    const rest = (m?.[2] ?? '').trim();
    switch (magic) {
      case 'time': {
        // It prints the times; an expression's value shows, as the cell's last line.
        const { code, comment } = splitComment(rest);
        if (code === '') return `${indent}pass${comment}`;
        const kind = timedKind(code);
        if (kind === 'expression')
          return `${indent}__cellflow__.timed(__cellflow__.time_start(), (${code}))${comment}`;
        if (kind === 'statements') return `${indent}with __cellflow__.timing(): ${code}${comment}`;
        return `${indent}${rest}`;
      }
      case 'prun': {
        // The statement runs (profiled, in IPython: its report goes to the pager, not the cell's
        // output), its value not shown; then IPython prints a space.
        const { code, comment } = splitComment(stripPrunOptions(rest));
        if (code === '') return `${indent}pass${comment}`;
        return timedKind(code) === null
          ? `${indent}${code}${comment}`
          : `${indent}${code}; __cellflow__.prun_done()${comment}`;
      }
      case 'timeit': {
        // IPython times the statement inside a function: what it binds stays there. A class body
        // runs once, at once, reads the notebook's names and keeps its own bindings to itself.
        const { code, comment } = splitComment(stripTimeitOptions(rest));
        if (code === '') return `${indent}pass${comment}`;
        return timedKind(code) === null
          ? `${indent}class ${TIMEIT_SCOPE}: ${code}${comment}`
          : `${indent}class ${TIMEIT_SCOPE}: _cellflow_start = __cellflow__.time_start(); ${code}; __cellflow__.timed(_cellflow_start, None, per_loop=True)${comment}`;
      }
      case 'env': {
        const kv = /^([A-Za-z_]\w*)\s*[= ]\s*(.*)$/.exec(rest);
        if (kv === null) return `${indent}pass  # ${body}`;
        env.push({ name: kv[1]!, value: kv[2]! });
        return `${indent}__cellflow__.set_env(${pyString(kv[1]!)}, ${pyString(kv[2]!)})`;
      }
      case 'run': {
        // The names the file binds join the notebook's: to the analysis, as `import *` does.
        const run = runArguments(splitComment(rest).code);
        if (run === null) {
          notes.push({
            line: lineNo,
            code: 'unsupported-magic',
            message: `\`%run ${rest}\` needs the debugger, the profiler or timing runs, which a pipeline step does not have; it is skipped. Fix: drop the option (\`-d\`, \`-p\`, \`-t\`, ...).`,
          });
          return `${indent}pass  # ${body}`;
        }
        const flag = (o: string): string => (run.options.has(o) ? 'True' : 'False');
        const args = `[${run.args.map(pyString).join(', ')}]`;
        return `${indent}__cellflow__.run_file(${pyString(run.target)}, ${args}, interactive=${flag('i')}, as_main=${run.options.has('n') ? 'False' : 'True'}, exit_ok=${flag('e')}, module=${run.module ? 'True' : 'False'})`;
      }
      case 'precision':
        return `${indent}__cellflow__.set_precision(${pyString(splitComment(rest).code)})`;
      case 'config':
        // `%config Class.trait = value` sets a shell's setting (which statements show their values).
        return /^\w+\.\w+\s*=/.test(rest)
          ? `${indent}__cellflow__.config(${pyString(splitComment(rest).code)})`
          : `${indent}pass  # ${body}`;
      case 'pprint':
        return `${indent}__cellflow__.set_pprint()`;
      case 'xmode':
        return `${indent}__cellflow__.set_xmode(${pyString(splitComment(rest).code)})`;
      case 'cd':
        return `${indent}__cellflow__.chdir(${pyString(rest)})`;
      case 'pinfo':
      case 'pinfo2':
        return `${indent}${helpLine(splitComment(rest).code.trim(), `pass  # ${body}`)}`;
      case 'pwd':
        return `${indent}__cellflow__.pwd()`;
      case 'pylab':
        // What IPython's `%pylab` imports, on one line: numpy and pyplot, and everything of pylab
        // and numpy into the notebook's names (`--no-import-all` keeps those two out).
        return `${indent}${PYLAB_IMPORTS}${/--no-import-all/.test(rest) ? '' : PYLAB_STAR}${PYLAB_BANNER}`;
      case 'pip':
      case 'conda':
        return `${indent}__cellflow__.shell(${shellCommandLiteral(`${magic} ${rest}`)}, terminal=True)`;
      case 'system':
      case 'sx':
        // Both are IPython's `%sx`: the command's output lines are the value, not printed.
        return `${indent}__cellflow__.shell_lines(${shellCommandLiteral(rest)})`;
      case 'load_ext': {
        // The notebook's own extension (`%%writefile mymagics.py` above) registers its magics;
        // the known ones change only the interactive session.
        const name = splitComment(rest).code.trim();
        if (/^[A-Za-z_][\w.]*$/.test(name) && !SESSION_EXTENSIONS.test(name))
          return `${indent}__cellflow__.load_ext(${pyString(name)})`;
        return `${indent}pass  # ${body}`;
      }
      default:
        if (Object.hasOwn(SHELL_ALIASES, magic))
          return `${indent}__cellflow__.shell(${shellCommandLiteral(aliasCommand(magic, rest))}, terminal=True)`;
        // Not IPython's: the notebook's own, registered above (`@register_line_magic def name`).
        if (magic !== '' && !LINE_MAGICS.has(magic) && !SESSION_MAGICS.has(magic)) {
          notes.push({
            line: lineNo,
            code: 'unsupported-magic',
            message: `Line magic \`%${magic}\` is not IPython's: it runs where the notebook registers it (\`@register_line_magic\`, \`%load_ext\` of its own module), else it is skipped. Fix: register it above, or rewrite it as Python.`,
          });
          return `${indent}__cellflow__.user_magic(${pyString(magic)}, ${pyString(rest)})`;
        }
        if (!SESSION_MAGICS.has(magic)) {
          notes.push({
            line: lineNo,
            code: 'unsupported-magic',
            message: `Line magic \`%${magic}\` has no effect in a pipeline step and is skipped. Fix: rewrite it as Python if the step needs it.`,
          });
        }
        return `${indent}pass  # ${body}`;
    }
  }
  return line;
}
