/**
 * The classifier's arithmetic, apart from where its counts live: tokens hashed into a fixed
 * number of buckets, per-bucket spam and ham document counts, and SpamBayes' combining of the
 * strongest clues (Gary Robinson's smoothed token probabilities, Fisher's chi-square
 * combination). Chosen over a plain multinomial naive Bayes because it judges each class by its
 * own frequencies (so an unbalanced training set does not tilt it), it is robust to the
 * redundancy of real text, and every count is a document count: training is an increment, the
 * one atomic operation the store offers. Pure functions on plain arrays.
 */

/**
 * How clues are chosen and combined. The defaults were chosen by cross-validation (5 × 5-fold)
 * inside the training groups of the SpamAssassin evaluation only (`pnpm eval:content --
 * --sweep`, docs/content.md), not on its held-out groups.
 */
export interface CombiningOptions {
  /** Robinson's prior strength `s`: how far a token seen few times is pulled toward `prior`. */
  readonly priorStrength: number;
  /** Robinson's prior probability `x` of a token never seen. */
  readonly prior: number;
  /** Clues nearer to 0.5 than this say too little to count (SpamBayes' `minimum_prob_strength`). */
  readonly minStrength: number;
  /**
   * A bucket is a clue only once at least this many training documents had it. A token seen in
   * one document (a hapax: a name, an order number, a random string) says more about that
   * message than about its class; ignoring hapaxes raised cross-validated recall at the default
   * threshold from 0.901 to 0.910 at the same false positives. Graham's plan used 5.
   */
  readonly minCount: number;
  /**
   * At most this many of the strongest clues are combined (SpamBayes' `max_discriminators`,
   * 150 there). 300 lets a long message's evidence count: +0.5 points of cross-validated recall
   * over 150 with the same false positives; more than 300 changed nothing.
   */
  readonly maxClues: number;
}

export const DEFAULT_COMBINING: CombiningOptions = Object.freeze({ priorStrength: 0.45, prior: 0.5, minStrength: 0.1, minCount: 2, maxClues: 300 });

/** What a prediction reads: per-bucket document counts and the documents of each class. */
export interface BayesCounts {
  readonly spam: ArrayLike<number>;
  readonly ham: ArrayLike<number>;
  readonly spamDocs: number;
  readonly hamDocs: number;
}

/**
 * A 32-bit FNV-1a hash of the token's UTF-16 code units with a final avalanche (murmur3's fmix),
 * so the low bits that pick a bucket depend on every character. Stable across processes and
 * versions: a trained model's buckets must mean the same thing everywhere.
 */
export function hashToken(token: string): number {
  let h = -2128831035; // FNV's 0x811c9dc5, signed as near.ts explains
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return finalMix(h);
}

/** `hashToken`'s avalanche of an FNV-1a state: what a token hashed elsewhere (tokens.ts `contentBuckets`) ends with. */
export function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), -2048144789);
  h = Math.imul(h ^ (h >>> 13), -1028477387);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The distinct buckets of `tokens` (`buckets` is a power of two), ascending. */
export function bucketsOf(tokens: readonly string[], buckets: number): Uint32Array {
  const mask = buckets - 1;
  const ids = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) ids[i] = hashToken(tokens[i]!) & mask;
  ids.sort();
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[n++] = ids[i]!;
  return ids.subarray(0, n);
}

/**
 * The spam probability of a text given its buckets: 0 is ham, 1 is spam, 0.5 says nothing
 * (no clue, or as much evidence either way). SpamBayes' `chi2_spamprob`.
 */
export function spamProbability(counts: BayesCounts, features: ArrayLike<number>, options: CombiningOptions = DEFAULT_COMBINING): number {
  if (counts.spamDocs <= 0 || counts.hamDocs <= 0) return 0.5;
  const found = clues(counts, features, options);
  if (found.length === 0) return 0.5;
  const { spam, ham } = chiEvidence(found);
  return (spam - ham + 1) / 2;
}

/**
 * Fisher's combined evidence of clues (each a spam probability), through the chi-square tail:
 * `spam` near 1 when the clues agree on spam, `ham` near 1 when they agree on ham.
 */
export function chiEvidence(found: readonly number[]): { spam: number; ham: number } {
  let hamLog = 0;
  let spamLog = 0;
  for (const f of found) {
    hamLog += Math.log(f);
    spamLog += Math.log1p(-f);
  }
  return { spam: 1 - chi2Q(-2 * spamLog, 2 * found.length), ham: 1 - chi2Q(-2 * hamLog, 2 * found.length) };
}

/**
 * SpamBayes' clues of a text: per bucket with enough documents, its spam probability (the
 * class ratios read against `spamTotal` and `hamTotal`, the documents of each class unless told)
 * shrunk toward `prior` by how little it has seen, kept when at least `minStrength` from 0.5;
 * the `maxClues` strongest of them, in no particular order below that cut.
 */
export function clues(counts: BayesCounts, features: ArrayLike<number>, options: CombiningOptions, spamTotal = counts.spamDocs, hamTotal = counts.hamDocs): number[] {
  const { priorStrength, prior, minStrength, minCount, maxClues } = options;
  const found: number[] = [];
  for (let i = 0; i < features.length; i++) {
    const bucket = features[i]!;
    const spam = counts.spam[bucket] ?? 0;
    const ham = counts.ham[bucket] ?? 0;
    const n = spam + ham;
    if (n === 0 || n < minCount) continue;
    const spamRatio = Math.min(1, spam / spamTotal);
    const hamRatio = Math.min(1, ham / hamTotal);
    const p = spamRatio / (spamRatio + hamRatio);
    const f = (priorStrength * prior + n * p) / (priorStrength + n);
    if (Math.abs(f - 0.5) >= minStrength) found.push(f);
  }
  if (found.length > maxClues) {
    found.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
    found.length = maxClues;
  }
  return found;
}

/** P(χ² ≥ x2) with `v` (even) degrees of freedom: the series for an even chi-square tail. */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}
