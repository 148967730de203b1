/**
 * Which modules a step imports, and which of them a bare Python image lacks: what `submit` and the
 * editors' Deploy warn about before a step fails on a cluster with ModuleNotFoundError.
 */
import type { SyntaxNode } from '@lezer/common';
import { parsePython } from './parse-python.js';

/**
 * The standard library's top-level modules (CPython 3.11's `sys.stdlib_module_names`, without the
 * private `_` ones): importable in every Python image.
 */
const STANDARD_LIBRARY: ReadonlySet<string> = new Set(
  `
  abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb
  binascii bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop
  collections colorsys compileall concurrent configparser contextlib contextvars copy copyreg
  crypt csv ctypes curses dataclasses datetime dbm decimal difflib dis distutils doctest email
  encodings ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib
  functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq hmac html
  http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools json keyword lib2to3
  linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap modulefinder msilib
  msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode operator optparse
  os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib posix
  posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue
  quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors
  shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3
  sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct subprocess
  sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this
  threading time timeit tkinter token tokenize tomllib trace traceback tracemalloc tty turtle
  turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave weakref
  webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
`
    .trim()
    .split(/\s+/),
);

/** Distribution names where they differ from the module's (what `pip install` takes). */
const DISTRIBUTIONS: Readonly<Record<string, string>> = {
  sklearn: 'scikit-learn',
  PIL: 'pillow',
  cv2: 'opencv-python',
  yaml: 'pyyaml',
  bs4: 'beautifulsoup4',
  skimage: 'scikit-image',
  dateutil: 'python-dateutil',
  attr: 'attrs',
};

/** The distribution that provides a top-level module (usually the module's own name). */
export function distributionOfModule(module: string): string {
  return DISTRIBUTIONS[module] ?? module;
}

export function isStandardLibraryModule(module: string): boolean {
  return STANDARD_LIBRARY.has(module) || module === '__future__';
}

/** Top-level modules `code` imports absolutely (`import a.b` and `from a.b import c` give `a`). */
export function importedModules(code: string): string[] {
  const found = new Set<string>();
  const visit = (node: SyntaxNode): void => {
    for (let child = node.firstChild; child !== null; child = child.nextSibling) {
      if (child.name === 'ImportStatement') {
        const first = child.firstChild;
        if (first?.name === 'from') {
          const module = first.nextSibling;
          if (module?.name === 'VariableName') found.add(code.slice(module.from, module.to));
        } else {
          for (let part = first?.nextSibling ?? null; part !== null; part = part.nextSibling) {
            const before = part.prevSibling?.name;
            if (part.name === 'VariableName' && (before === 'import' || before === ','))
              found.add(code.slice(part.from, part.to));
          }
        }
      } else visit(child);
    }
  };
  visit(parsePython(code).topNode);
  return [...found];
}
