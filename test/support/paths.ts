/**
 * Where tests and benches find the repository and the Python steps run with. Import these; do not
 * declare them again (lint refuses a second `PYTHON` or repository root in test files).
 */
import { resolve } from 'node:path';

/** The repository's root folder. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * Debian's interpreter, with the scientific stack `scripts/setup-machine.sh` installs. Tests name
 * it explicitly: the `python3` first on PATH may be another interpreter without those packages.
 */
export const PYTHON = '/usr/bin/python3';
