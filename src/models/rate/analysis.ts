// Equilibria, game-theoretic residuals, stability (Jacobian spectrum, Lyapunov diagonal stability) and contrast-gain theory of rate circuits.
// Model: a reconstruction of Betteti et al., arXiv 2512.05252, from its abstract only (see docs/models/rate-circuits.md);
// every identity used here is derived in the comments and checked in test/rate-analysis.test.ts.
import { ParameterError } from '../../errors.ts';
import { activationMax, activationSlope, applyActivation, type Activation, type Circuit, type LateralParams } from './circuit.ts';

// ---------------------------------------------------------------- small dense linear algebra

/** Solves M x = b (M row-major k x k, copied) by Gaussian elimination with partial pivoting; null when (near) singular. */
export function solveLinear(M: Float64Array, b: Float64Array): Float64Array | null {
  const k = b.length, A = M.slice(), x = b.slice();
  let scale = 0;
  for (let i = 0; i < A.length; i++) scale = Math.max(scale, Math.abs(A[i]));
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]) > Math.abs(A[p * k + c])) p = r;
    if (Math.abs(A[p * k + c]) <= 1e-13 * scale) return null;
    if (p !== c) {
      for (let j = 0; j < k; j++) [A[c * k + j], A[p * k + j]] = [A[p * k + j], A[c * k + j]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    for (let r = c + 1; r < k; r++) {
      const f = A[r * k + c] / A[c * k + c];
      if (f === 0) continue;
      for (let j = c; j < k; j++) A[r * k + j] -= f * A[c * k + j];
      x[r] -= f * x[c];
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r];
    for (let j = r + 1; j < k; j++) s -= A[r * k + j] * x[j];
    x[r] = s / A[r * k + r];
  }
  return x;
}

function determinant(M: Float64Array, k: number): number {
  const A = M.slice();
  let det = 1;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]) > Math.abs(A[p * k + c])) p = r;
    if (A[p * k + c] === 0) return 0;
    if (p !== c) {
      for (let j = 0; j < k; j++) [A[c * k + j], A[p * k + j]] = [A[p * k + j], A[c * k + j]];
      det = -det;
    }
    det *= A[c * k + c];
    for (let r = c + 1; r < k; r++) {
      const f = A[r * k + c] / A[c * k + c];
      for (let j = c; j < k; j++) A[r * k + j] -= f * A[c * k + j];
    }
  }
  return det;
}

function matVec(c: Circuit, x: ArrayLike<number>): Float64Array {
  const n = c.n, y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = c.u[i];
    for (let j = 0; j < n; j++) s += c.W[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

function sizeOf(A: Float64Array, what: string): number {
  const n = Math.round(Math.sqrt(A.length));
  if (n * n !== A.length || n === 0) throw new ParameterError(what, `length ${A.length} is not a positive perfect square`, 'pass a row-major n x n Float64Array');
  return n;
}

// ---------------------------------------------------------------- game view

/** F(x) = (I - W) x - u: the pseudo-gradient, the vector of each neuron's own-energy gradient dE^i/dx_i without the activation term. */
export function pseudoGradient(c: Circuit, x: ArrayLike<number>): Float64Array {
  const net = matVec(c, x);
  return net.map((v, i) => x[i] - v);
}

/** Psi(s) = int_0^s phi^-1, the part of E_act that is not -s^2/2; Infinity outside the rate domain. */
function psi(a: Activation, s: number): number {
  if (s < 0 || s > activationMax(a)) return Infinity;
  if (a.kind !== 'softclip') return 0.5 * s * s;
  const m = a.xmax;
  if (s >= m) return Infinity;
  const r = s / m;
  // d/ds [s atanh(s/m) + (m/2) ln(1 - s^2/m^2)] = atanh(s/m).
  return s * Math.atanh(r) + 0.5 * m * Math.log1p(-r * r);
}

/** Per-neuron energies E^i = 1/2 (1 - w_ii) x_i^2 - x_i (sum_{j != i} w_ij x_j + u_i) + E_act(x_i), E_act = Psi(x_i) - x_i^2/2 (0 or Infinity for relu/clip). */
export function energies(c: Circuit, x: ArrayLike<number>): Float64Array {
  const n = c.n, e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const wii = c.W[i * n + i];
    let b = c.u[i];
    for (let j = 0; j < n; j++) if (j !== i) b += c.W[i * n + j] * x[j];
    e[i] = 0.5 * (1 - wii) * x[i] * x[i] - x[i] * b + psi(c.activation, x[i]) - 0.5 * x[i] * x[i];
  }
  return e;
}

/**
 * argmin_y E^i(y; x_-i) for the local field b = sum_{j != i} w_ij x_j + u_i. Stationarity gives phi^-1(y) - w_ii y = b,
 * i.e. y = phi(w_ii y + b): for relu/clip y = clip(b / (1 - w_ii)); for softclip the left side has slope
 * 1/phi' - w_ii >= 1 - w_ii > 0, so it is solved by bisection (y = 0 when b <= 0, since phi^-1(0+) = 0).
 * Needs 1 - w_ii > 0 (E^i strictly convex); the caller checks.
 */
export function bestResponse(a: Activation, wii: number, b: number): number {
  if (a.kind !== 'softclip') return Math.min(Math.max(b / (1 - wii), 0), activationMax(a));
  if (b <= 0) return 0;
  const m = a.xmax;
  let lo = 0, hi = m;
  for (let it = 0; it < 200 && hi - lo > 1e-16 * m; it++) {
    const y = 0.5 * (lo + hi);
    if (m * Math.atanh(y / m) - wii * y < b) lo = y;
    else hi = y;
  }
  return 0.5 * (lo + hi);
}

export interface NashReport {
  /** max_i |x_i - argmin_y E^i(y; x_-i)|; Infinity when some E^i is not convex. */
  residual: number;
  /** The neuron attaining it (-1 when n = 0). */
  neuron: number;
  explanation: string;
}

/** How far x is from a Nash equilibrium of the neurons' game (0 exactly at equilibria of the rate dynamics when all w_ii < 1). */
export function nashResidual(c: Circuit, x: ArrayLike<number>): NashReport {
  const n = c.n;
  for (let i = 0; i < n; i++) {
    if (1 - c.W[i * n + i] <= 0)
      return { residual: Infinity, neuron: i, explanation: `w_ii = ${c.W[i * n + i]} >= 1 for ${c.labels[i]}: its energy is not convex in its own rate, so it has no best response and equilibria are not Nash equilibria` };
  }
  let residual = 0, neuron = -1;
  for (let i = 0; i < n; i++) {
    let b = c.u[i];
    for (let j = 0; j < n; j++) if (j !== i) b += c.W[i * n + j] * x[j];
    const d = Math.abs(x[i] - bestResponse(c.activation, c.W[i * n + i], b));
    if (d > residual || neuron < 0) [residual, neuron] = [d, i];
  }
  return { residual, neuron, explanation: 'max over neurons of the distance to its best response' };
}

// ---------------------------------------------------------------- equilibria

export interface EquilibriumResult {
  /** All equilibria found, sorted lexicographically, duplicates removed. */
  solutions: Float64Array[];
  method: 'support-enumeration' | 'projected-gauss-seidel' | 'newton' | 'projected-gauss-seidel+newton';
  /** Active sets whose linear system was singular (a continuum of equilibria may hide there). */
  singularSets: number;
}

function fixedPointResidual(c: Circuit, x: Float64Array): number {
  const net = matVec(c, x);
  let r = 0;
  for (let i = 0; i < c.n; i++) r = Math.max(r, Math.abs(x[i] - applyActivation(c.activation, net[i])));
  return r;
}

function scaleOf(c: Circuit): number {
  let s = 1;
  for (let i = 0; i < c.u.length; i++) s = Math.max(s, Math.abs(c.u[i]));
  return s;
}

function addUnique(list: Float64Array[], x: Float64Array, tol: number): void {
  for (const y of list) {
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    if (d <= tol) return;
  }
  list.push(x);
}

function sortSolutions(list: Float64Array[]): Float64Array[] {
  return list.sort((p, q) => {
    for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return p[i] - q[i];
    return 0;
  });
}

/** Deterministic start points: 0, phi(u), the domain's top (or 2|u|+1), and a few pseudo-random points. */
function startPoints(c: Circuit, count: number): Float64Array[] {
  const n = c.n, top = Number.isFinite(activationMax(c.activation)) ? activationMax(c.activation) * 0.999 : 2 * scaleOf(c) + 1;
  const starts = [new Float64Array(n), c.u.map((v) => applyActivation(c.activation, v)), new Float64Array(n).fill(top)];
  let s = 0x9e3779b9;
  for (let k = 0; k < count; k++) {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[i] = (s / 2 ** 32) * top;
    }
    starts.push(x);
  }
  return starts;
}

/**
 * Relu/clip: x = clip(W x + u) is an LCP (box LCP for clip). Each neuron is silent (x = 0, net <= 0), linear
 * (x = net in [0, xmax]) or saturated (x = xmax, net >= xmax); on each assignment x_A = (I - W_AA)^-1 (u_A + W_AS xmax)
 * and the sign conditions are checked. 2^n (relu) or 3^n (clip) systems, all solutions returned.
 */
function enumerateSupports(c: Circuit): { sols: Float64Array[]; singular: number } {
  const n = c.n, a = c.activation, xmax = activationMax(a), states = a.kind === 'relu' ? 2 : 3;
  const tol = 1e-10 * scaleOf(c), sols: Float64Array[] = [];
  let singular = 0;
  const code = new Int8Array(n);
  const total = states ** n;
  for (let m = 0; m < total; m++) {
    for (let i = 0, r = m; i < n; i++, r = Math.floor(r / states)) code[i] = r % states;
    const act: number[] = [];
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (code[i] === 1) act.push(i);
      else if (code[i] === 2) x[i] = xmax;
    }
    if (act.length) {
      const k = act.length, M = new Float64Array(k * k), rhs = new Float64Array(k);
      for (let r = 0; r < k; r++) {
        const i = act[r];
        let s = c.u[i];
        for (let j = 0; j < n; j++) if (code[j] === 2) s += c.W[i * n + j] * xmax;
        rhs[r] = s;
        for (let q = 0; q < k; q++) M[r * k + q] = (r === q ? 1 : 0) - c.W[i * n + act[q]];
      }
      const xa = solveLinear(M, rhs);
      if (!xa) { singular++; continue; }
      act.forEach((i, r) => (x[i] = xa[r]));
    }
    const net = matVec(c, x);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      if (code[i] === 0) ok = net[i] <= tol;
      else if (code[i] === 2) ok = net[i] >= xmax - tol;
      else ok = x[i] >= -tol && x[i] <= xmax + tol;
    }
    if (!ok) continue;
    for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(x[i], 0), xmax);
    addUnique(sols, x, 1e-8 * scaleOf(c));
  }
  return { sols, singular };
}

/** Iterated best responses (projected Gauss-Seidel on the LCP); converges e.g. when I - W is diagonally dominant, often not for E-I games. */
function projectedGaussSeidel(c: Circuit, x0: Float64Array): Float64Array | null {
  const n = c.n, x = x0.slice();
  // O(n^2) per sweep: at most 20000 sweeps, fewer for large circuits so 16 starts stay within ~1e9 operations.
  const maxSweeps = Math.min(20000, Math.max(500, Math.floor(6e7 / (n * n))));
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let change = 0;
    for (let i = 0; i < n; i++) {
      let b = c.u[i];
      for (let j = 0; j < n; j++) if (j !== i) b += c.W[i * n + j] * x[j];
      const y = bestResponse(c.activation, c.W[i * n + i], b);
      change = Math.max(change, Math.abs(y - x[i]));
      x[i] = y;
    }
    if (!Number.isFinite(change)) return null;
    if (change <= 1e-14 * scaleOf(c)) return x;
  }
  return null;
}

/** Damped (semismooth) Newton on G(x) = x - phi(W x + u), Jacobian I - D W, with backtracking on |G|. */
function newton(c: Circuit, x0: Float64Array): Float64Array | null {
  const n = c.n, a = c.activation, x = x0.slice();
  const G = (y: Float64Array) => { const net = matVec(c, y); return y.map((v, i) => v - applyActivation(a, net[i])); };
  const norm = (v: Float64Array) => v.reduce((m, t) => Math.max(m, Math.abs(t)), 0);
  let g = G(x);
  for (let it = 0; it < 200; it++) {
    if (norm(g) <= 1e-13 * scaleOf(c)) return x;
    const net = matVec(c, x), J = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const d = activationSlope(a, net[i]);
      for (let j = 0; j < n; j++) J[i * n + j] = (i === j ? 1 : 0) - d * c.W[i * n + j];
    }
    const step = solveLinear(J, g) ?? g; // singular Jacobian: fall back to a fixed-point step
    let t = 1, done = false;
    while (t > 1e-6) {
      const y = x.map((v, i) => Math.min(Math.max(v - t * step[i], 0), activationMax(a) * (1 - 1e-15)));
      const gy = G(y);
      if (norm(gy) < (1 - 1e-4 * t) * norm(g)) { x.set(y); g = gy; done = true; break; }
      t *= 0.5;
    }
    if (!done) return null;
  }
  return norm(g) <= 1e-10 * scaleOf(c) ? x : null;
}

/**
 * The equilibria (= Nash equilibria when all w_ii < 1) computed directly, not by integrating. relu/clip with
 * n <= maxEnumerate: exhaustive support enumeration, every solution; larger: projected Gauss-Seidel from several starts,
 * and semismooth Newton from the starts where it fails (best-response iteration often cycles in E-I games).
 * softclip: damped Newton from several starts. The fallbacks may miss equilibria.
 */
export function solveEquilibrium(c: Circuit, opts: { maxEnumerate?: number; starts?: number } = {}): EquilibriumResult {
  const maxEnumerate = opts.maxEnumerate ?? 12, starts = opts.starts ?? 16;
  if (c.activation.kind !== 'softclip' && c.n <= maxEnumerate) {
    const { sols, singular } = enumerateSupports(c);
    return { solutions: sortSolutions(sols), method: 'support-enumeration', singularSets: singular };
  }
  const sols: Float64Array[] = [];
  const pgs = c.activation.kind !== 'softclip' && Array.from({ length: c.n }, (_, i) => c.W[i * c.n + i]).every((w) => w < 1);
  let usedNewton = false;
  for (const x0 of startPoints(c, starts)) {
    let x = pgs ? projectedGaussSeidel(c, x0) : null;
    if (!x) { x = newton(c, x0); usedNewton = true; }
    if (x && fixedPointResidual(c, x) <= 1e-9 * scaleOf(c)) addUnique(sols, x, 1e-7 * scaleOf(c));
  }
  const method = !pgs ? 'newton' : usedNewton ? 'projected-gauss-seidel+newton' : 'projected-gauss-seidel';
  return { solutions: sortSolutions(sols), method, singularSets: 0 };
}

// ---------------------------------------------------------------- potential game

/**
 * For symmetric W the game has the potential (Hopfield energy) V(x) = -1/2 x^T W x - u^T x + sum_i Psi(x_i),
 * Psi = int_0 phi^-1 (s^2/2 on the domain for relu/clip). Along T dx/dt = phi(a) - x, a = W x + u:
 * dV/dt = sum_i (phi^-1(x_i) - a_i)(phi(a_i) - x_i)/tau_i <= 0 since phi is monotone (for relu/clip the projection
 * inequality gives the same). Infinity outside the rate domain.
 */
export function hopfieldEnergy(c: Circuit, x: ArrayLike<number>): number {
  const n = c.n;
  let asym = 0, scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    asym = Math.max(asym, Math.abs(c.W[i * n + j] - c.W[j * n + i]));
    scale = Math.max(scale, Math.abs(c.W[i * n + j]));
  }
  if (asym > 1e-12 * Math.max(1, scale))
    throw new ParameterError('W', `is not symmetric (max |w_ij - w_ji| = ${asym})`, 'E-I circuits have no global energy: use energies() per neuron, or a symmetric W');
  let v = 0;
  for (let i = 0; i < n; i++) {
    let wx = 0;
    for (let j = 0; j < n; j++) wx += c.W[i * n + j] * x[j];
    v += -0.5 * x[i] * wx - c.u[i] * x[i] + psi(c.activation, x[i]);
  }
  return v;
}

// ---------------------------------------------------------------- linearisation and spectra

/** J = T^-1 (-I + D W), D = diag(phi'(W x + u)) (relu: 1 where the net input is > 0). */
export function jacobian(c: Circuit, x: ArrayLike<number>): Float64Array {
  const n = c.n, net = matVec(c, x), J = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const d = activationSlope(c.activation, net[i]);
    for (let j = 0; j < n; j++) J[i * n + j] = ((i === j ? -1 : 0) + d * c.W[i * n + j]) / c.tau[i];
  }
  return J;
}

export interface Complex { re: number; im: number }

function csqrt(re: number, im: number): [number, number] {
  const r = Math.hypot(re, im);
  if (r === 0) return [0, 0];
  const s = Math.sqrt(0.5 * (r + Math.abs(re)));
  return re >= 0 ? [s, im / (2 * s)] : [Math.abs(im) / (2 * s), im >= 0 ? s : -s];
}

/** Eigenvalues of [[a, b], [c, d]] (complex entries as [re, im]). */
function eig2(a: [number, number], b: [number, number], c: [number, number], d: [number, number]): [Complex, Complex] {
  const mr = 0.5 * (a[0] + d[0]), mi = 0.5 * (a[1] + d[1]);
  const hr = 0.5 * (a[0] - d[0]), hi = 0.5 * (a[1] - d[1]);
  const [sr, si] = csqrt(hr * hr - hi * hi + b[0] * c[0] - b[1] * c[1], 2 * hr * hi + b[0] * c[1] + b[1] * c[0]);
  return [{ re: mr + sr, im: mi + si }, { re: mr - sr, im: mi - si }];
}

/** Householder reduction to upper Hessenberg form (in place, row-major n x n). */
function hessenberg(A: Float64Array, n: number): void {
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += A[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = A[(k + 1) * n + k] > 0 ? -norm : norm;
    const v = new Float64Array(n - k - 1);
    for (let i = 0; i < v.length; i++) v[i] = A[(k + 1 + i) * n + k];
    v[0] -= alpha;
    const vn = Math.hypot(...v);
    if (vn === 0) continue;
    for (let i = 0; i < v.length; i++) v[i] /= vn;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i] * A[(k + 1 + i) * n + j];
      for (let i = 0; i < v.length; i++) A[(k + 1 + i) * n + j] -= 2 * v[i] * s;
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < v.length; j++) s += A[i * n + k + 1 + j] * v[j];
      for (let j = 0; j < v.length; j++) A[i * n + k + 1 + j] -= 2 * s * v[j];
    }
    for (let i = k + 2; i < n; i++) A[i * n + k] = 0;
  }
}

/**
 * Eigenvalues of a general real n x n matrix (row-major), sorted by real part then imaginary part, descending.
 * n <= 2 in closed form; otherwise Householder-Hessenberg followed by complex single-shift QR (Wilkinson shifts,
 * Givens rotations, deflation of 1x1 and 2x2 blocks). Imaginary parts below 1e-10 |A| are reported as 0.
 */
export function eigenvalues(A: Float64Array): Complex[] {
  const n = sizeOf(A, 'A');
  let anorm = 0;
  for (let i = 0; i < A.length; i++) anorm = Math.max(anorm, Math.abs(A[i]));
  if (!Number.isFinite(anorm)) throw new ParameterError('A', 'has non-finite entries', 'check the matrix');
  const out: Complex[] = [];
  if (n === 1) out.push({ re: A[0], im: 0 });
  else if (n === 2) out.push(...eig2([A[0], 0], [A[1], 0], [A[2], 0], [A[3], 0]));
  else {
    const hr = A.slice(), hi = new Float64Array(n * n);
    hessenberg(hr, n);
    const at = (i: number, j: number): [number, number] => [hr[i * n + j], hi[i * n + j]];
    const mod = (i: number, j: number) => Math.hypot(hr[i * n + j], hi[i * n + j]);
    let end = n - 1, iter = 0;
    const cs = new Float64Array(4 * n);
    while (end >= 0) {
      if (end === 0) { out.push({ re: hr[0], im: hi[0] }); break; }
      let l = end;
      for (; l > 0; l--) {
        const s = mod(l - 1, l - 1) + mod(l, l);
        if (mod(l, l - 1) <= 1e-15 * (s || anorm)) { hr[l * n + l - 1] = 0; hi[l * n + l - 1] = 0; break; }
      }
      if (l === end) { out.push({ re: hr[end * n + end], im: hi[end * n + end] }); end--; iter = 0; continue; }
      if (l === end - 1) { out.push(...eig2(at(l, l), at(l, end), at(end, l), at(end, end))); end -= 2; iter = 0; continue; }
      if (++iter > 100) throw new ParameterError('A', 'QR iteration did not converge', 'check the matrix for NaN or extreme scaling');
      // Wilkinson shift: the eigenvalue of the trailing 2x2 closer to its last diagonal entry; an ad hoc shift now and then breaks cycles.
      let mr: number, mi: number;
      if (iter % 11 === 10) { mr = hr[end * n + end] + 0.75 * mod(end, end - 1); mi = 0.3 * mod(end, end - 1); }
      else {
        const [e1, e2] = eig2(at(end - 1, end - 1), at(end - 1, end), at(end, end - 1), at(end, end));
        const d = at(end, end);
        const pick = Math.hypot(e1.re - d[0], e1.im - d[1]) <= Math.hypot(e2.re - d[0], e2.im - d[1]) ? e1 : e2;
        mr = pick.re; mi = pick.im;
      }
      for (let i = l; i <= end; i++) { hr[i * n + i] -= mr; hi[i * n + i] -= mi; }
      // H - mu I = Q R with Givens G_k = [[conj c, conj s], [-s, c]] on rows k, k+1; then H <- R Q + mu I.
      for (let k = l; k < end; k++) {
        const ar = hr[k * n + k], ai = hi[k * n + k], br = hr[(k + 1) * n + k], bi = hi[(k + 1) * n + k];
        const r = Math.hypot(ar, ai, br, bi);
        const cr = r ? ar / r : 1, ci = r ? ai / r : 0, sr = r ? br / r : 0, si = r ? bi / r : 0;
        cs.set([cr, ci, sr, si], 4 * k);
        for (let j = k; j <= end; j++) {
          const xr = hr[k * n + j], xi = hi[k * n + j], yr = hr[(k + 1) * n + j], yi = hi[(k + 1) * n + j];
          hr[k * n + j] = cr * xr + ci * xi + sr * yr + si * yi;
          hi[k * n + j] = cr * xi - ci * xr + sr * yi - si * yr;
          hr[(k + 1) * n + j] = -(sr * xr - si * xi) + (cr * yr - ci * yi);
          hi[(k + 1) * n + j] = -(sr * xi + si * xr) + (cr * yi + ci * yr);
        }
      }
      for (let k = l; k < end; k++) {
        const [cr, ci, sr, si] = cs.subarray(4 * k, 4 * k + 4);
        for (let i = l; i <= Math.min(k + 2, end); i++) {
          const pr = hr[i * n + k], pi = hi[i * n + k], qr = hr[i * n + k + 1], qi = hi[i * n + k + 1];
          hr[i * n + k] = pr * cr - pi * ci + qr * sr - qi * si;
          hi[i * n + k] = pr * ci + pi * cr + qr * si + qi * sr;
          hr[i * n + k + 1] = -(pr * sr + pi * si) + (qr * cr + qi * ci);
          hi[i * n + k + 1] = -(pi * sr - pr * si) + (qi * cr - qr * ci);
        }
      }
      for (let i = l; i <= end; i++) { hr[i * n + i] += mr; hi[i * n + i] += mi; }
    }
  }
  // A real matrix has exact conjugate pairs: snap near-real values to the axis and symmetrise each pair.
  for (const e of out) if (Math.abs(e.im) <= 1e-10 * Math.max(anorm, 1e-300)) e.im = 0;
  const used = new Set<Complex>();
  for (const e of out) {
    if (e.im <= 0 || used.has(e)) continue;
    let best: Complex | null = null;
    for (const f of out) if (f.im < 0 && !used.has(f) && (!best || Math.hypot(f.re - e.re, f.im + e.im) < Math.hypot(best.re - e.re, best.im + e.im))) best = f;
    if (!best) continue;
    used.add(e); used.add(best);
    const re = 0.5 * (e.re + best.re), im = 0.5 * (e.im - best.im);
    Object.assign(e, { re, im }); Object.assign(best, { re, im: -im });
  }
  return out.sort((p, q) => q.re - p.re || q.im - p.im);
}

/** Largest eigenvalue and a unit eigenvector of a symmetric matrix (cyclic Jacobi). */
function symmetricTop(S: Float64Array, n: number): { value: number; vector: Float64Array } {
  const A = S.slice(), V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0, tot = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { tot += A[i * n + j] ** 2; if (i !== j) off += A[i * n + j] ** 2; }
    if (off <= 1e-30 * tot) break;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q];
      if (apq === 0) continue;
      const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) {
        const akp = A[k * n + p], akq = A[k * n + q];
        A[k * n + p] = c * akp - s * akq; A[k * n + q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = A[p * n + k], aqk = A[q * n + k];
        A[p * n + k] = c * apk - s * aqk; A[q * n + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < n; k++) {
        const vkp = V[k * n + p], vkq = V[k * n + q];
        V[k * n + p] = c * vkp - s * vkq; V[k * n + q] = s * vkp + c * vkq;
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (A[i * n + i] > A[best * n + best]) best = i;
  return { value: A[best * n + best], vector: Float64Array.from({ length: n }, (_, k) => V[k * n + best]) };
}

/** -lambda_max(P A + A^T P) for P = diag(p), with the top eigenvector. */
function ldsObjective(A: Float64Array, n: number, p: Float64Array): { margin: number; v: Float64Array } {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = p[i] * A[i * n + j] + A[j * n + i] * p[j];
  const { value, vector } = symmetricTop(S, n);
  return { margin: -value, v: vector };
}

export interface LdsResult {
  /** margin > 0: a certificate (P below makes P A + A^T P negative definite). */
  isLDS: boolean;
  /** max over diagonal P >= 0 with trace 1 of -lambda_max(P A + A^T P) (a lower bound of it for n >= 3). */
  margin: number;
  /** The diagonal of the maximising P. */
  P: Float64Array;
}

/**
 * Lyapunov diagonal stability test. The margin is concave in P (minus a max of linear functions), so:
 * n = 1 exact; n = 2 golden-section search over p in [0, 1] (exact to rounding); n >= 3 entropic mirror ascent
 * on the simplex with step 0.5/sqrt(k) along the supergradient g_i = -2 v_i (A v)_i (v the top eigenvector),
 * keeping the best iterate. A margin > 0 at an interior P is a certificate; near the boundary n >= 3 may miss it.
 */
export function ldsTest(A: Float64Array, opts: { iterations?: number; exact2x2?: boolean } = {}): LdsResult {
  const n = sizeOf(A, 'A');
  if (n === 1) return { isLDS: A[0] < 0, margin: -2 * A[0], P: Float64Array.of(1) };
  if (n === 2 && opts.exact2x2 !== false) {
    const f = (p: number) => ldsObjective(A, 2, Float64Array.of(p, 1 - p)).margin;
    let lo = 0, hi = 1;
    const g = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo), f1 = f(x1), f2 = f(x2);
    for (let it = 0; it < 200; it++) {
      if (f1 < f2) { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = f(x2); }
      else { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = f(x1); }
    }
    const p = 0.5 * (lo + hi), margin = f(p);
    return { isLDS: margin > 0, margin, P: Float64Array.of(p, 1 - p) };
  }
  // Each iteration is a full Jacobi eigensolve, O(n^3): the default keeps the total near 1e8 n^3-units (3000 up to
  // n = 32; ~20 s at the largest column, n = 192, instead of 40 min). The margin stays a valid lower bound.
  const iterations = opts.iterations ?? Math.min(3000, Math.max(20, Math.floor(1e8 / n ** 3)));
  const p = new Float64Array(n).fill(1 / n);
  let best = { margin: -Infinity, P: p.slice() };
  for (let k = 1; k <= iterations; k++) {
    const { margin, v } = ldsObjective(A, n, p);
    if (margin > best.margin) best = { margin, P: p.slice() };
    const g = new Float64Array(n);
    let gmax = 0;
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += A[i * n + j] * v[j];
      g[i] = -2 * v[i] * av;
      gmax = Math.max(gmax, Math.abs(g[i]));
    }
    if (gmax === 0) break;
    const eta = 0.5 / Math.sqrt(k);
    let sum = 0;
    for (let i = 0; i < n; i++) { p[i] *= Math.exp((eta * g[i]) / gmax); p[i] = Math.max(p[i], 1e-300); sum += p[i]; }
    for (let i = 0; i < n; i++) p[i] /= sum;
  }
  return { isLDS: best.margin > 0, margin: best.margin, P: best.P };
}

/** Exact 2x2 rule: A is LDS iff a11 < 0, a22 < 0 and det A > 0. */
export function lds2x2(A: Float64Array): boolean {
  return A[0] < 0 && A[3] < 0 && A[0] * A[3] - A[1] * A[2] > 0;
}

/** All 2^n - 1 principal minors > 0 (n <= 16). LDS of -M implies M is a P-matrix: a unique LCP solution for every q. */
export function isPMatrix(M: Float64Array): boolean {
  const n = sizeOf(M, 'M');
  if (n > 16) throw new ParameterError('M', `has n = ${n} > 16 (2^n principal minors)`, 'test a smaller matrix, or use ldsTest as a sufficient condition');
  for (let mask = 1; mask < 1 << n; mask++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) idx.push(i);
    const k = idx.length, S = new Float64Array(k * k);
    for (let r = 0; r < k; r++) for (let q = 0; q < k; q++) S[r * k + q] = M[idx[r] * n + idx[q]];
    if (!(determinant(S, k) > 0)) return false;
  }
  return true;
}

/** T^-1 (W - I): the matrix whose LDS guarantees a unique, globally stable equilibrium for every input. */
export function stabilityMatrix(c: Circuit): Float64Array {
  const n = c.n, A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = (c.W[i * n + j] - (i === j ? 1 : 0)) / c.tau[i];
  return A;
}

// ---------------------------------------------------------------- Wilson-Cowan regimes

export type WilsonCowanRegime = 'unique-stable' | 'inhibition-stabilised' | 'bistable' | 'oscillatory' | 'runaway';

export interface EquilibriumInfo { x: Float64Array; eigenvalues: Complex[]; stable: boolean; nash: number }

export interface WilsonCowanClassification {
  regime: WilsonCowanRegime;
  equilibria: EquilibriumInfo[];
  lds: LdsResult;
  reason: string;
}

/**
 * Regime of a Wilson-Cowan pair (x = (E, I)); stable = all Jacobian eigenvalues with real part < 0. In order:
 *  1. >= 2 stable equilibria -> 'bistable';
 *  2. T^-1 (W - I) LDS (for this pair: iff wEE < 1) -> 'unique-stable';
 *  3. one stable equilibrium with E saturated at xmax (clip/softclip) -> 'runaway' (run-away to x_max);
 *  4. one stable equilibrium with E in its linear range and wEE > 1 -> 'inhibition-stabilised' (E alone unstable);
 *  5. one stable equilibrium otherwise (E silent, or wEE = 1) -> 'unique-stable' (locally only; lds.isLDS is false);
 *  6. no stable equilibrium and an E-active one with a complex pair of positive real part -> 'oscillatory'
 *     (relu: bounded, since the spiral silences E and I then decays);
 *  7. otherwise (no equilibrium, or only saddles/unstable nodes) -> 'runaway'.
 */
export function classifyWilsonCowan(c: Circuit): WilsonCowanClassification {
  if (c.n !== 2 || !c.excitatory[0] || c.excitatory[1]) throw new ParameterError('circuit', 'is not a Wilson-Cowan pair (E, I)', 'build it with makeWilsonCowan');
  const wEE = c.W[0], xmax = activationMax(c.activation);
  const equilibria = solveEquilibrium(c).solutions.map((x): EquilibriumInfo => {
    const ev = eigenvalues(jacobian(c, x));
    return { x, eigenvalues: ev, stable: ev.every((e) => e.re < 0), nash: nashResidual(c, x).residual };
  });
  const lds = ldsTest(stabilityMatrix(c));
  const stable = equilibria.filter((e) => e.stable);
  const r = (regime: WilsonCowanRegime, reason: string) => ({ regime, equilibria, lds, reason });
  if (stable.length >= 2) return r('bistable', `${stable.length} stable equilibria`);
  if (lds.isLDS) return r('unique-stable', `T^-1(W - I) is LDS (margin ${lds.margin.toPrecision(3)})`);
  if (stable.length === 1) {
    const xE = stable[0].x[0];
    if (Number.isFinite(xmax) && xE >= xmax * (1 - 1e-9)) return r('runaway', 'the only stable state has E saturated at xmax');
    if (xE > 0 && wEE > 1) return r('inhibition-stabilised', 'stable with E active although wEE > 1 (E alone unstable)');
    return r('unique-stable', 'one stable equilibrium, but not LDS (stability is local)');
  }
  const focus = equilibria.some((e) => e.x[0] > 0 && e.eigenvalues.some((v) => v.im !== 0 && v.re > 0));
  if (focus) return r('oscillatory', 'no stable equilibrium; an E-active unstable focus');
  return r('runaway', equilibria.length ? 'no stable equilibrium and no unstable focus' : 'no equilibrium');
}

// ---------------------------------------------------------------- contrast in the lateral-inhibition circuit

/** C = (x1 - x2) / (x1 + x2) (0 when both are 0). */
export function contrast(x1: number, x2: number): number {
  const s = x1 + x2;
  return s === 0 ? 0 : (x1 - x2) / s;
}

export interface LateralBoundary {
  /** a = 1 - wEE: net self-decay of an E cell. */
  a: number;
  /** b = wEI wIE / (1 + wII): cross-channel inhibition after eliminating the I cells. */
  b: number;
  /** Contrast gain G = (a + b) / (a - b) in the all-active regime. */
  gain: number;
  /** The critical self-excitation wEE* = 1 - b: soft competition (LDS) below, winner-take-all above. */
  wEEcritical: number;
  /** W - I of the 2-channel circuit is LDS iff a > b (it is signature-similar to a Metzler matrix, for which Hurwitz <=> LDS). */
  lds: boolean;
}

/**
 * Derivation (2 channels, relu, all four cells active, tau irrelevant at equilibrium):
 *   I_k = wIE E_k - wII I_k  =>  I_k = g E_k, g = wIE / (1 + wII)
 *   E_1 = wEE E_1 - wEI I_2 + u_1  =>  a E_1 + b E_2 = u_1,  a = 1 - wEE, b = wEI g  (and 1 <-> 2)
 * Sum and difference modes decouple: (a + b) S = U, (a - b) D = Delta, with S = E_1 + E_2, D = E_1 - E_2. Hence
 *   C_out = D / S = G C_in,  G = (a + b) / (a - b) = (1 - wEE + wEI wIE/(1+wII)) / (1 - wEE - wEI wIE/(1+wII)),
 * exactly linear, independent of the total input U (so dC_out/dC_in = G at equal, or any, total input).
 * E_2 > 0 requires |G C_in| < 1. Weaker channel silenced (E_2 = I_2 = 0, E_1 = u_1 / a, needs a > 0): E_2's net
 * input u_2 - b E_1 <= 0 <=> C_in >= (a - b)/(a + b) = 1/G, where C_out = 1 and the gain is 0; so for a > b,
 * C_out = clamp(G C_in, -1, 1), continuous at |C_in| = 1/G. The difference mode has Jacobian [[-a, wEI], [wIE, -(1+wII)]]
 * (times tau^-1 rows), det = (1+wII)(a - b): for a < b the all-active state is a saddle and only winner-take-all states
 * (C_out = +-1, both available when |C_in| < (b - a)/(b + a): hysteresis) are stable; a <= 0 lets the winner run away.
 * The LDS boundary of W - I is a = b, i.e. exactly where G -> infinity: soft (LDS) versus hard competition.
 */
/**
 * n channels (channels 3..n receive the mean input uE, channels 1 and 2 get uE (1 +- C_in)): with S = sum_k E_k,
 * (a - b) E_k + b S = u_k, so S = U / (a + (n - 1) b), E_1 - E_2 = (u_1 - u_2) / (a - b) and
 * E_1 + E_2 = 2 uE / (a + (n - 1) b), giving C_out = G_n C_in with G_n = (a + (n - 1) b) / (a - b) (n = 2: the formula
 * above; checked against simulation for n = 3, 4, 6). The difference modes still have det (1 + wII)(a - b), so the LDS /
 * winner-take-all boundary stays a = b for every n.
 */
export function lateralRegimeBoundary(p: Pick<LateralParams, 'wEE' | 'wIE' | 'wEI' | 'wII'> & { channels?: number }): LateralBoundary {
  const n = p.channels ?? 2;
  const a = 1 - p.wEE, b = (p.wEI * p.wIE) / (1 + p.wII);
  return { a, b, gain: (a + (n - 1) * b) / (a - b), wEEcritical: 1 - b, lds: a > b };
}

export type ContrastRegime = 'all-active' | 'weaker-silenced' | 'winner-take-all' | 'runaway';

/**
 * Contrast-gain theory of the n-channel (default 2) relu lateral circuit at input contrast cIn (default 0): regime, dC_out/dC_in
 * and C_out (see lateralRegimeBoundary for the derivation). winner-take-all reports gain Infinity and the state where
 * the larger input wins (+1 at cIn = 0). Assumes positive total input and no saturation.
 */
export function contrastGainTheory(p: Pick<LateralParams, 'wEE' | 'wIE' | 'wEI' | 'wII'> & { channels?: number }, cIn = 0): { regime: ContrastRegime; gain: number; cOut: number; boundary: LateralBoundary } {
  if (p.channels !== undefined && !(Number.isInteger(p.channels) && p.channels >= 2)) throw new ParameterError('channels', `must be an integer >= 2, got ${p.channels}`, 'use channels: 2 or more');
  if (!(Math.abs(cIn) <= 1)) throw new ParameterError('cIn', `must be in [-1, 1], got ${cIn}`, 'contrast is (u1 - u2)/(u1 + u2)');
  const boundary = lateralRegimeBoundary(p), { a, b, gain } = boundary;
  if (a <= 0) return { regime: 'runaway', gain: NaN, cOut: NaN, boundary };
  if (a <= b) return { regime: 'winner-take-all', gain: Infinity, cOut: cIn >= 0 ? 1 : -1, boundary };
  if (Math.abs(gain * cIn) < 1) return { regime: 'all-active', gain, cOut: gain * cIn, boundary };
  return { regime: 'weaker-silenced', gain: 0, cOut: Math.sign(cIn), boundary };
}
