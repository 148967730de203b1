/**
 * Core's analysis of open notebooks, cached until the notebook or one of its cells changes; each
 * notebook's re-checks go through its own `NotebookAnalyzer`, which redoes only what an edit changed.
 */
import type * as vscode from 'vscode';
import { NotebookAnalyzer, type AnalyzeResult } from '@cellflow/core';
import type { Config } from '../config.js';
import { toCoreNotebook } from './notebook-cells.js';

function fileName(doc: vscode.NotebookDocument): string {
  return doc.uri.path.split('/').pop() ?? 'notebook.ipynb';
}

export class NotebookAnalysis {
  private readonly cache = new Map<
    string,
    { key: string; result: AnalyzeResult; analyzer: NotebookAnalyzer }
  >();

  constructor(private readonly config: Config) {}

  private static versionKey(doc: vscode.NotebookDocument): string {
    return `${doc.version}:${doc
      .getCells()
      .map((c) => c.document.version)
      .join(',')}`;
  }

  analyze(doc: vscode.NotebookDocument): AnalyzeResult {
    const uri = doc.uri.toString();
    const key = NotebookAnalysis.versionKey(doc);
    const hit = this.cache.get(uri);
    if (hit?.key === key) return hit.result;
    const analyzer = hit?.analyzer ?? new NotebookAnalyzer();
    const result = analyzer.analyze(toCoreNotebook(doc), this.compileOptions(doc));
    this.cache.set(uri, { key, result, analyzer });
    return result;
  }

  compileOptions(doc: vscode.NotebookDocument): { fileName: string; defaultImage?: string } {
    const image = this.config.defaultImage;
    return { fileName: fileName(doc), ...(image !== undefined ? { defaultImage: image } : {}) };
  }

  forget(doc: vscode.NotebookDocument): void {
    this.cache.delete(doc.uri.toString());
  }
}
