/**
 * What an amendment changes in the original's words (新旧対照): a character diff, as runs of
 * kept, removed and added text. Japanese has no spaces, so the unit is the character; a longest
 * common subsequence over at most MAX_CELLS pairs, else the whole text replaced.
 */

const MAX_CELLS = 4_000_000;

/**
 * @typedef {{kind: "same" | "del" | "ins", text: string}} DiffRun
 */

/**
 * @param {string} before
 * @param {string} after
 * @returns {DiffRun[]}
 */
export function textDiff(before, after) {
  const a = [...before];
  const b = [...after];
  if (a.length * b.length > MAX_CELLS) return runs([["del", before], ["ins", after]]);
  // lengths[i][j]: the longest common subsequence of a[i:] and b[j:]
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  /** @type {[DiffRun["kind"], string][]} */
  const steps = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      steps.push(["same", a[i]]);
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lengths[i + 1][j] >= lengths[i][j + 1])) {
      steps.push(["del", a[i]]); // what is struck out reads before what replaces it
      i++;
    } else {
      steps.push(["ins", b[j]]);
      j++;
    }
  }
  return runs(steps);
}

/**
 * @param {[DiffRun["kind"], string][]} steps
 * @returns {DiffRun[]}
 */
function runs(steps) {
  /** @type {DiffRun[]} */
  const out = [];
  for (const [kind, text] of steps) {
    if (!text) continue;
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  }
  return out;
}
