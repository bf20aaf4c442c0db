/**
 * A side-by-side line diff of two texts (two rule-set versions, pretty-printed): the longest
 * common subsequence of lines, then runs of removed and added lines paired up as changed rows.
 * Rule sets are a few hundred lines, so the quadratic table is small; past MAX_LINES the
 * caller is told instead.
 */

export const MAX_LINES = 4_000;

export interface DiffCell {
  line: number;
  text: string;
}

export interface DiffRow {
  kind: 'same' | 'changed' | 'removed' | 'added';
  left: DiffCell | null;
  right: DiffCell | null;
}

export function lineDiff(before: string, after: string): DiffRow[] | null {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length > MAX_LINES || b.length > MAX_LINES) return null;
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[at(i, j)] = a[i] === b[j] ? lcs[at(i + 1, j + 1)]! + 1 : Math.max(lcs[at(i + 1, j)]!, lcs[at(i, j + 1)]!);
    }
  }
  const rows: DiffRow[] = [];
  let removed: DiffCell[] = [];
  let added: DiffCell[] = [];
  const flush = () => {
    const paired = Math.min(removed.length, added.length);
    for (let k = 0; k < paired; k++) rows.push({ kind: 'changed', left: removed[k]!, right: added[k]! });
    for (const cell of removed.slice(paired)) rows.push({ kind: 'removed', left: cell, right: null });
    for (const cell of added.slice(paired)) rows.push({ kind: 'added', left: null, right: cell });
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      rows.push({ kind: 'same', left: { line: i + 1, text: a[i]! }, right: { line: j + 1, text: b[j]! } });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[at(i, j + 1)]! >= lcs[at(i + 1, j)]!)) {
      added.push({ line: j + 1, text: b[j]! });
      j++;
    } else {
      removed.push({ line: i + 1, text: a[i]! });
      i++;
    }
  }
  flush();
  return rows;
}

/**
 * The rows worth showing: every change with `context` unchanged lines around it; longer runs
 * of unchanged lines collapse into one `null` (rendered as "…").
 */
export function withContext(rows: DiffRow[], context = 3): (DiffRow | null)[] {
  const keep = rows.map((row) => row.kind !== 'same');
  const show = rows.map((_, index) => {
    for (let k = Math.max(0, index - context); k <= Math.min(rows.length - 1, index + context); k++) if (keep[k]) return true;
    return false;
  });
  const out: (DiffRow | null)[] = [];
  rows.forEach((row, index) => {
    if (show[index]) out.push(row);
    else if (out[out.length - 1] !== null) out.push(null);
  });
  return out;
}
