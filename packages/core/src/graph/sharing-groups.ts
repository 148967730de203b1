/** Names whose values may share objects, as disjoint groups (union-find with member lists). */
export class SharingGroups {
  private readonly parent = new Map<string, string>();
  private readonly groups = new Map<string, string[]>();

  private find(name: string): string {
    let root = name;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root))
      root = p;
    // Path compression: later look-ups are one step.
    for (let n = name; n !== root;) {
      const next = this.parent.get(n)!;
      this.parent.set(n, root);
      n = next;
    }
    return root;
  }

  private add(name: string): void {
    if (!this.parent.has(name)) {
      this.parent.set(name, name);
      this.groups.set(name, [name]);
    }
  }

  union(a: string, b: string): void {
    this.add(a);
    this.add(b);
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.groups.get(ra)!.length < this.groups.get(rb)!.length) [ra, rb] = [rb, ra];
    this.parent.set(rb, ra);
    this.groups.get(ra)!.push(...this.groups.get(rb)!);
    this.groups.delete(rb);
  }

  members(name: string): readonly string[] {
    return this.parent.has(name) ? this.groups.get(this.find(name))! : [name];
  }

  /** The groups of two or more among `names`. */
  partition(names: readonly string[]): string[][] {
    const groups = new Map<string, string[]>();
    for (const n of names) {
      const root = this.parent.has(n) ? this.find(n) : n;
      groups.set(root, [...(groups.get(root) ?? []), n]);
    }
    return [...groups.values()].filter((g) => g.length > 1);
  }
}
