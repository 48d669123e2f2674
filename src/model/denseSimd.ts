/**
 * The fused kernel's dense layers as a small WebAssembly SIMD module, emitted byte by byte here
 * (no compiler in reach): 128-bit vectors of four float32 lanes, what TF.js' WASM backend
 * computes in, without its per-op dispatch.
 *
 * Layout: a chunk's activations are [unit][event] with a row stride of CHUNK events, so that four
 * neighbouring events fill one vector; counts of events are multiples of 16 (four vectors per
 * loop, each weight loaded once for 16 events). Kernels are [inputs][outputs], as the model's.
 * An odd number of units is handled by pairing the last unit with itself (it is computed twice,
 * and stored twice with the same value). Every sum runs in a fixed order: the results depend
 * only on the inputs.
 *
 *   dense(W, B, H, OUT, nIn, nOut, count, floor)  OUT[o][e] = max(B[o] + Σ_j W[j][o] H[j][e], floor)
 *                                                 (floor 0: ReLU, NaN to 0; -Infinity: linear)
 *   grad(H, D, GW, GB, nIn, nOut, count)          GW[j][o] = Σ_e H[j][e] D[o][e], GB[o] = Σ_e D[o][e]
 *   back(W, H, D, DH, nIn, nOut, count)           DH[j][e] = H[j][e] > 0 ? Σ_o W[j][o] D[o][e] : 0
 *
 * Arguments are byte addresses in the memory the module imports (m.memory), 16-byte aligned.
 */
export interface DenseSimd {
  dense(W: number, B: number, H: number, OUT: number, nIn: number, nOut: number, count: number, floor: number): void;
  grad(H: number, D: number, GW: number, GB: number, nIn: number, nOut: number, count: number): void;
  back(W: number, H: number, D: number, DH: number, nIn: number, nOut: number, count: number): void;
}

/** Events per chunk (the row stride of activations), a multiple of 16. */
export const CHUNK = 128;
const ROW = CHUNK * 4;

/** The module's functions over `memory`. */
export function denseSimd(memory: WebAssembly.Memory): DenseSimd {
  compiled ??= new WebAssembly.Module(moduleBytes());
  return new WebAssembly.Instance(compiled, { m: { memory } }).exports as unknown as DenseSimd;
}

let compiled: WebAssembly.Module | undefined;

// ---- encoding (https://webassembly.github.io/spec/core/binary/) ----

type Code = number[];

function uleb(n: number): Code {
  const out: Code = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n ? b | 0x80 : b);
  } while (n);
  return out;
}

function sleb(n: number): Code {
  const out: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
const name = (s: string): Code => vec([...s].map((c) => [c.charCodeAt(0)]));

const [I32, F32, V128] = [0x7f, 0x7d, 0x7b];
const get = (l: number): Code => [0x20, ...uleb(l)];
const set = (l: number): Code => [0x21, ...uleb(l)];
const tee = (l: number): Code => [0x22, ...uleb(l)];
const i32 = (v: number): Code => [0x41, ...sleb(v)];
const [ADD, MUL, LT_U, SELECT] = [[0x6a], [0x6c], [0x49], [0x1b]];
const F32_ADD = [0x92];
const f32Store = (offset: number): Code => [0x38, 2, ...uleb(offset)];
const simd = (op: number, ...immediates: number[]): Code => [0xfd, ...uleb(op), ...immediates];
const load = (offset: number): Code => simd(0x00, 4, ...uleb(offset));
const store = (offset: number): Code => simd(0x0b, 4, ...uleb(offset));
const loadSplat = (offset: number): Code => simd(0x09, 2, ...uleb(offset));
const ZERO = simd(0x0c, ...new Array(16).fill(0));
const [SPLAT, GT, AND, VADD, VMUL, PMAX] = [simd(0x13), simd(0x44), simd(0x4e), simd(0xe4), simd(0xe6), simd(0xeb)];
const extract = (lane: number): Code => simd(0x1f, lane);

/** A do-while loop: body, then again while `cond` (an i32 expression) holds. */
const loop = (body: Code[], cond: Code): Code => [0x03, 0x40, ...body.flat(), ...cond, 0x0d, 0, 0x0b];
/** local += step; then the condition local < limit. */
const next = (local: number, step: number, limit: number): Code => [
  ...get(local),
  ...i32(step),
  ...ADD,
  ...tee(local),
  ...get(limit),
  ...LT_U,
];
/** The partner of unit `u` in a pair: u + 1, or u itself when u is the last of `count`. */
const partner = (u: number, count: number, into: number): Code => [
  ...get(u),
  ...i32(1),
  ...ADD,
  ...get(u),
  ...get(u),
  ...i32(1),
  ...ADD,
  ...get(count),
  ...LT_U,
  ...SELECT,
  ...set(into),
];
/** base + a * b (a local times a local or a constant). */
const addr = (base: number, a: number, b: number | 'row' | 'four'): Code => [
  ...get(base),
  ...get(a),
  ...(b === 'row' ? i32(ROW) : b === 'four' ? i32(4) : get(b)),
  ...MUL,
  ...ADD,
];
/** acc += x * w (v128 locals). */
const mac = (acc: number, x: number, w: number): Code => [
  ...get(acc),
  ...get(x),
  ...get(w),
  ...VMUL,
  ...VADD,
  ...set(acc),
];
/** The sum of a vector's four lanes, in lane order. */
const hsum = (v: number): Code => [
  ...get(v),
  ...extract(0),
  ...[1, 2, 3].flatMap((lane) => [...get(v), ...extract(lane), ...F32_ADD]),
];
const zero = (locals: number[]): Code => locals.flatMap((l) => [...ZERO, ...set(l)]);

function denseBody(): Code {
  const [W, B, H, OUT, nIn, nOut, count, floor] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [o, p, e, j, hp, wp, wq] = [8, 9, 10, 11, 12, 13, 14];
  const a = [15, 16, 17, 18];
  const b = [19, 20, 21, 22];
  const [wa, wb, fl, x] = [23, 24, 25, 26];
  const locals = [
    [7, I32],
    [12, V128],
  ];
  const storeRow = (unit: number, acc: number[]): Code => [
    ...addr(OUT, unit, 'row'),
    ...get(e),
    ...i32(4),
    ...MUL,
    ...ADD,
    ...set(hp),
    ...acc.flatMap((v, k) => [...get(hp), ...get(fl), ...get(v), ...PMAX, ...store(16 * k)]),
  ];
  const code = [
    ...get(floor),
    ...SPLAT,
    ...set(fl),
    ...i32(0),
    ...set(o),
    ...loop(
      [
        partner(o, nOut, p),
        i32(0),
        set(e),
        loop(
          [
            ...a.map((v) => [...addr(B, o, 'four'), ...loadSplat(0), ...set(v)]),
            ...b.map((v) => [...addr(B, p, 'four'), ...loadSplat(0), ...set(v)]),
            addr(H, e, 'four'),
            set(hp),
            addr(W, o, 'four'),
            set(wp),
            addr(W, p, 'four'),
            set(wq),
            i32(0),
            set(j),
            loop(
              [
                get(wp),
                loadSplat(0),
                set(wa),
                get(wq),
                loadSplat(0),
                set(wb),
                ...[0, 1, 2, 3].map((k) => [
                  ...get(hp),
                  ...load(16 * k),
                  ...set(x),
                  ...mac(a[k], x, wa),
                  ...mac(b[k], x, wb),
                ]),
                [...get(hp), ...i32(ROW), ...ADD, ...set(hp)],
                [...get(wp), ...get(nOut), ...i32(4), ...MUL, ...ADD, ...set(wp)],
                [...get(wq), ...get(nOut), ...i32(4), ...MUL, ...ADD, ...set(wq)],
              ],
              next(j, 1, nIn),
            ),
            storeRow(o, a),
            storeRow(p, b),
          ],
          next(e, 16, count),
        ),
      ],
      next(o, 2, nOut),
    ),
  ];
  return func(locals, code);
}

function gradBody(): Code {
  const [H, D, GW, GB, nIn, nOut, count] = [0, 1, 2, 3, 4, 5, 6];
  const [o, p, j, q, e, rj, rq, rO, rP] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
  const s = [16, 17, 18, 19];
  const [hj, hq, dO, dP] = [20, 21, 22, 23];
  const locals = [
    [9, I32],
    [8, V128],
  ];
  const at = (row: number): Code => [...get(row), ...get(e), ...ADD, ...load(0)];
  const gw = (row: number, col: number, sum: number): Code => [
    ...get(GW),
    ...get(row),
    ...get(nOut),
    ...MUL,
    ...get(col),
    ...ADD,
    ...i32(4),
    ...MUL,
    ...ADD,
    ...hsum(sum),
    ...f32Store(0),
  ];
  const code = [
    // e runs over bytes: up to count * 4.
    ...get(count),
    ...i32(4),
    ...MUL,
    ...set(count),
    // Biases: GB[o] = Σ_e D[o][e].
    ...i32(0),
    ...set(o),
    ...loop(
      [
        zero([s[0]]),
        addr(D, o, 'row'),
        set(rO),
        i32(0),
        set(e),
        loop([[...get(s[0]), ...at(rO), ...VADD, ...set(s[0])]], next(e, 16, count)),
        [...addr(GB, o, 'four'), ...hsum(s[0]), ...f32Store(0)],
      ],
      next(o, 1, nOut),
    ),
    // Kernels, two rows by two columns at a time.
    ...i32(0),
    ...set(j),
    ...loop(
      [
        partner(j, nIn, q),
        addr(H, j, 'row'),
        set(rj),
        addr(H, q, 'row'),
        set(rq),
        i32(0),
        set(o),
        loop(
          [
            partner(o, nOut, p),
            addr(D, o, 'row'),
            set(rO),
            addr(D, p, 'row'),
            set(rP),
            zero(s),
            i32(0),
            set(e),
            loop(
              [
                [...at(rj), ...set(hj), ...at(rq), ...set(hq), ...at(rO), ...set(dO), ...at(rP), ...set(dP)],
                mac(s[0], hj, dO),
                mac(s[1], hj, dP),
                mac(s[2], hq, dO),
                mac(s[3], hq, dP),
              ],
              next(e, 16, count),
            ),
            gw(j, o, s[0]),
            gw(j, p, s[1]),
            gw(q, o, s[2]),
            gw(q, p, s[3]),
          ],
          next(o, 2, nOut),
        ),
      ],
      next(j, 2, nIn),
    ),
  ];
  return func(locals, code);
}

function backBody(): Code {
  const [W, H, D, DH, nIn, nOut, count] = [0, 1, 2, 3, 4, 5, 6];
  const [j, q, e, o, dp, wj, wq] = [7, 8, 9, 10, 11, 12, 13];
  const a = [14, 15, 16, 17];
  const b = [18, 19, 20, 21];
  const [x, u, v] = [22, 23, 24];
  const locals = [
    [7, I32],
    [11, V128],
  ];
  // DH[unit][e..e+15] = acc where H > 0 (dp: DH's address, wj: H's).
  const storeRow = (unit: number, acc: number[]): Code => [
    ...addr(DH, unit, 'row'),
    ...get(e),
    ...i32(4),
    ...MUL,
    ...ADD,
    ...set(dp),
    ...addr(H, unit, 'row'),
    ...get(e),
    ...i32(4),
    ...MUL,
    ...ADD,
    ...set(wj),
    ...acc.flatMap((r, k) => [
      ...get(dp),
      ...get(r),
      ...get(wj),
      ...load(16 * k),
      ...ZERO,
      ...GT,
      ...AND,
      ...store(16 * k),
    ]),
  ];
  const row = (unit: number): Code => [...get(W), ...get(unit), ...get(nOut), ...MUL, ...i32(4), ...MUL, ...ADD];
  const code = [
    ...i32(0),
    ...set(j),
    ...loop(
      [
        partner(j, nIn, q),
        i32(0),
        set(e),
        loop(
          [
            zero([...a, ...b]),
            addr(D, e, 'four'),
            set(dp),
            row(j),
            set(wj),
            row(q),
            set(wq),
            i32(0),
            set(o),
            loop(
              [
                get(wj),
                loadSplat(0),
                set(u),
                get(wq),
                loadSplat(0),
                set(v),
                ...[0, 1, 2, 3].map((k) => [
                  ...get(dp),
                  ...load(16 * k),
                  ...set(x),
                  ...mac(a[k], x, u),
                  ...mac(b[k], x, v),
                ]),
                [...get(dp), ...i32(ROW), ...ADD, ...set(dp)],
                [...get(wj), ...i32(4), ...ADD, ...set(wj)],
                [...get(wq), ...i32(4), ...ADD, ...set(wq)],
              ],
              next(o, 1, nOut),
            ),
            storeRow(j, a),
            storeRow(q, b),
          ],
          next(e, 16, count),
        ),
      ],
      next(j, 2, nIn),
    ),
  ];
  return func(locals, code);
}

function func(locals: number[][], code: Code): Code {
  const body = [...vec(locals.map(([n, type]) => [...uleb(n), type])), ...code, 0x0b];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const params = (n: number, ...extra: number[]): Code => [
    0x60,
    ...vec([...new Array(n).fill([I32]), ...extra.map((t) => [t])]),
    0,
  ];
  const types = section(1, vec([params(7, F32), params(7)]));
  const imports = section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x00, 1]]));
  const functions = section(3, vec([[0], [1], [1]]));
  const exports = section(7, vec(['dense', 'grad', 'back'].map((n, i) => [...name(n), 0x00, i])));
  const code = section(10, vec([denseBody(), gradBody(), backBody()]));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...functions, ...exports, ...code]);
}
