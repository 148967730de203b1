/**
 * What calls do, by the name called: which methods leave their object as it is, which calls make a
 * value that cannot cross steps, change their first argument, or read or write files. The
 * statement walker (analyze-python) reads these; a wrong guess costs a save, never a wrong result.
 */

/**
 * Methods that do not change their object; calling anything else on a name counts as a possible
 * in-place mutation (conservative: a wrong guess costs a save, never a wrong result).
 */
export const NON_MUTATING_METHODS = new Set([
  'predict',
  'predict_proba',
  'predict_log_proba',
  'decision_function',
  'score',
  'transform',
  'inverse_transform',
  'get_params',
  'copy',
  'sum',
  'mean',
  'median',
  'std',
  'var',
  'min',
  'max',
  'argmin',
  'argmax',
  'argsort',
  'any',
  'all',
  'round',
  'dot',
  'reshape',
  'astype',
  'tolist',
  'to_numpy',
  'to_dict',
  'to_list',
  'to_csv',
  'to_json',
  'to_string',
  'head',
  'tail',
  'describe',
  'info',
  'nunique',
  'unique',
  'value_counts',
  'groupby',
  'agg',
  'apply',
  'map',
  'filter',
  'query',
  'loc',
  'iloc',
  'merge',
  'join',
  'items',
  'keys',
  'values',
  'get',
  'count',
  'index',
  'format',
  'split',
  'strip',
  'lower',
  'upper',
  'startswith',
  'endswith',
  'replace',
  'encode',
  'decode',
  'isnull',
  'isna',
  'notna',
  'notnull',
  'corr',
  'cov',
  'flatten',
  'ravel',
  'squeeze',
  'item',
  'nonzero',
  'cumsum',
  'prod',
  'clip',
  'sort_values',
  'drop',
  'dropna',
  'fillna',
  'rename',
  'reset_index',
  'set_index',
  'sample',
  'pivot',
  'melt',
  'explode',
  'diff',
  'pct_change',
  'shift',
  'rolling',
  'resample',
  'plot',
  'hist',
  'save',
  'savefig',
  'show',
  'numpy',
  'detach',
  'cpu',
  'eval',
  'state_dict',
  'parameters',
  'named_parameters',
  'summary',
  'evaluate',
  'issubset',
  'issuperset',
  'union',
  'intersection',
  'difference',
  'isdigit',
  'isalpha',
  'title',
  'zfill',
  'exists',
  'is_file',
  'is_dir',
  'read_text',
  'read_bytes',
  'glob',
  'hexdigest',
  'digest',
]);

/**
 * Methods on the list above that draw when their object is a matplotlib Axes (`ax.plot(x)`),
 * though not on a pandas frame (`df.plot()`): they change a name only when some cell binds that
 * name from a figure or axes maker (`FIGURE_MAKERS`).
 */
export const DRAWING_METHODS = new Set(['plot', 'hist']);

/**
 * Calls, by the callee's last name, whose result is a figure, axes or a grid of them
 * (`plt.subplots()`, `fig.add_subplot(111)`, `df.plot()`, `sns.histplot(...)`).
 */
export const FIGURE_MAKERS =
  /^(subplots|subplot|subplot2grid|subplot_mosaic|add_subplot|add_axes|axes|gca|gcf|figure|twinx|twiny|inset_axes|plot|hist|\w+plot|heatmap|clustermap|FacetGrid|PairGrid|JointGrid)$/;

/**
 * Calls, by the callee's last name, whose result unpacks into new objects that share nothing
 * (`X_train, X_test, y_train, y_test = train_test_split(X, y)`, `X, y = load_digits(return_X_y=True)`):
 * the parts cross steps apart, not as one group.
 */
export const SEPARATE_PARTS_MAKERS = /^(train_test_split|load_\w+|fetch_\w+|make_[a-z_]+)$/;

/** Keyword arguments that hand a call the axes to draw on (`df.plot(ax=ax)`): it changes them. */
export const DRAW_TARGET_KEYWORDS = new Set(['ax', 'axes']);

/** Calls whose result cannot be pickled, by callee text, and what to call it in a message. */
export const UNSAVABLE_ORIGINS: readonly (readonly [RegExp, string])[] = [
  // A file from `open`, a sqlite3 connection and its cursors cross: the loading step opens them
  // again.
  [/^(codecs\.|gzip\.|bz2\.|lzma\.)open$/, 'an open file'],
  [/^(psycopg2|pymysql|MySQLdb|pyodbc|cx_Oracle|duckdb)\.connect$/, 'a database connection'],
  [/^(urllib\.request\.)?urlopen$/, 'an open network response'],
  [/^socket\.(socket|create_connection)$/, 'a network socket'],
  [
    /^(threading|multiprocessing)\.(Condition|Event|Thread|Barrier|Process|Queue)$/,
    'a thread, a process or what threads share',
  ],
  [/^Thread$/, 'a thread'],
  [/^(subprocess\.)?Popen$/, 'a running process'],
  [/^(os\.)?scandir$/, 'a directory iterator'],
];

/**
 * Calls whose result cannot be saved but is made again, the same, by running its statement again
 * where it is used (`add = np.frompyfunc(f, 2, 1)`, `np.vectorize(f, otypes=...)` once called,
 * patsy's design matrices `y, X = dmatrices(...)`, sympy's `lambdify` (a function of a module
 * it generates), scipy's sparse LU factorizations `lu = sp.linalg.splu(A)`; a CSV reader over a file that crosses, opened
 * again at its position; a process pool, an executor or a lock, whose workers or holder are the
 * process's own): a name bound to one is code, like a generator. A `Pool(...)` (`mp.Pool(4)`) is
 * one when it is given at most the number of processes (see code units): catboost's `Pool(X, y)`
 * is data.
 */
export const REMADE_BY_RUNNING =
  /^((np|numpy)\.(frompyfunc|vectorize)|csv\.(reader|DictReader|writer|DictWriter)|(patsy\.)?(dmatrix|dmatrices)|(sympy\.)?lambdify|([\w.]*\.)?(splu|spilu)|(multiprocessing\.pool\.)?ThreadPool|(concurrent\.futures\.)?(ThreadPoolExecutor|ProcessPoolExecutor)|((threading|multiprocessing)\.)?(Lock|RLock|Semaphore|BoundedSemaphore))$/;

/**
 * Whether a unit's statement makes a CSV reader or writer (`w = csv.writer(f)`): one holds the file
 * it reads or writes, and crosses steps with it, where it is.
 */
export function makesCsvWrapper(code: string): boolean {
  return /^(csv\s*\.\s*)?(reader|writer|DictReader|DictWriter)\s*\(/.test(
    code.slice(code.indexOf('=') + 1).trim(),
  );
}

/** How every callee among `UNSAVABLE_ORIGINS` ends: most calls are ruled out by this one test. */
export const UNSAVABLE_ENDINGS =
  /(open|connect|cursor|socket|connection|Lock|Condition|Semaphore|Event|Thread|Barrier|Process|Pool|Queue|Executor|Popen|scandir)$/;

/**
 * Library functions that change their first argument in place (`heapq.heappush(h, x)`,
 * `random.shuffle(xs)`, `np.copyto(dst, src)`, PyTorch's `nn.init.zeros_(w)`), `setattr(obj, ...)`, and `next(it)` (an iterator moves on).
 */
export const FIRST_ARGUMENT_MUTATORS =
  /^(heappush|heappop|heapify|heappushpop|heapreplace|insort|insort_left|insort_right|shuffle|copyto|put|place|putmask|fill_diagonal|setattr|delattr|next|[a-z]\w*[a-z0-9]_)$/;

/**
 * Calls whose result crosses to a later step as its file, opened again there (see the step
 * runtime's `_SharingPickler`): a file, a numpy memmap or `.npz` archive, a sqlite3 database, a
 * pandas ExcelFile. A step that loads one reads the file, and may write it.
 */
export const FILE_BACKED =
  /(^|\.)(open|memmap|open_memmap|ExcelFile)$|^((np|numpy)\.)?load$|^(sqlite3\.)?connect$/;

/** Calls that write files (or may: a shell command, a download). */
export const FILE_WRITERS =
  /^(to_(sql|csv|parquet|json|excel|pickle|feather|hdf|html|latex|markdown|stata|xml|netcdf|file)|savefig|save|savez|savez_compressed|savetxt|save_model|save_weights|save_pretrained|dump|write|writelines|write_text|write_bytes|write_file|mkdir|makedirs|remove|unlink|rmtree|rmdir|rename|copyfile|copytree|imsave|imwrite|urlretrieve|extractall|export_graphviz|touch|shell|shell_lines|script|system|call|run|check_call|check_output|connect|execute|executemany|executescript|commit)$/;
/** Calls that read files (or list them). */
export const FILE_READERS =
  /^(read_\w+|load|loadtxt|genfromtxt|fromfile|memmap|imread|open|listdir|scandir|glob|iglob|rglob|iterdir|exists|is_file|is_dir|isfile|isdir|walk|getsize|stat|chdir|read_text|read_bytes|load_model|load_weights|from_pretrained|Image|fetch_openml|load_files|load_svmlight_file|run_file|load_ext)$/;

/** `functools.lru_cache(...)` and `functools.cache`, however imported, as the callee of a call. */
export const CACHING_CALLEE = /^(?:[\w.]+\.)?(?:lru_cache|cache)\b/;
