import type { EventValues } from './reference.js';

/**
 * The values of the 'sample' tree in scikit-hep-testdata's uproot-sample-<ROOT version>-<codec>.root
 * files, computed by replaying the ROOT macro that wrote them (uproot3's tests/samples/sample4version.C;
 * its tests/test_versions.py lists the same values), an independent reference for every branch type:
 * scalars (b, i1, u1, ... f8), fixed-length arrays ab[3] ... af8[3] and arrays counted by n (Ab[n] ...).
 * The macro writes Ab[n] (not Ab[j]) in its inner loop, so a jagged entry holds values left by earlier
 * entries: the replay keeps the same buffers. The string branch 'str' is left out.
 */
export function samplePattern(): Record<string, EventValues> {
  type Kind = [string, new (n: number) => ArrayLike<number> & { [i: number]: number }];
  const kinds: Kind[] = [
    ['b', Uint8Array],
    ['i1', Int8Array],
    ['u1', Uint8Array],
    ['i2', Int16Array],
    ['u2', Uint16Array],
    ['i4', Int32Array],
    ['u4', Uint32Array],
    ['i8', Float64Array], // Long64_t and ULong64_t: the values are small, exact as doubles
    ['u8', Float64Array],
    ['f4', Float32Array],
    ['f8', Float64Array],
  ];
  const out: Record<string, EventValues> = { n: [] };
  for (const [name] of kinds) {
    out[name] = [];
    out[`a${name}`] = [];
    out[`A${name}`] = [];
  }
  const buffers = new Map(kinds.map(([name, T]) => [name, { scalar: new T(1), fixed: new T(3), jagged: new T(10) }]));
  for (let i = 0; i < 30; i++) {
    const n = i % 5;
    for (let j = 0; j < n + 1; j++) {
      for (const [name] of kinds) {
        const { scalar, fixed, jagged } = buffers.get(name)!;
        if (name === 'b') {
          scalar[0] = Number(i % 2 === 0);
          fixed[0] = Number(i % 2 === 1);
          fixed[1] = Number(i % 2 === 0);
          fixed[2] = Number(i % 2 === 1);
          jagged[n] = Number((i + j) % 2 === 0);
        } else if (name[0] === 'f') {
          scalar[0] = i - 14.9;
          fixed[0] = i - 13.9;
          fixed[1] = i - 12.9;
          fixed[2] = i - 11.9;
          jagged[n] = i - 15.0 + j * 0.1;
        } else {
          const offset = name[0] === 'i' ? -15 : 0;
          scalar[0] = i + offset;
          for (let k = 0; k < 3; k++) fixed[k] = i + offset + k + 1;
          jagged[n] = i + offset + j;
        }
      }
    }
    out.n.push(n);
    for (const [name] of kinds) {
      const { scalar, fixed, jagged } = buffers.get(name)!;
      out[name].push(scalar[0]);
      out[`a${name}`].push(Array.from(fixed));
      out[`A${name}`].push(Array.from(jagged).slice(0, n));
    }
  }
  return out;
}
