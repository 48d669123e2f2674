import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { concatBatches, type EventBatch } from '../../src/batch/batch.js';
import { passMask } from '../../src/selection/cutsFile.js';
import { Demand } from '../../src/sources/demand.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { InputError } from '../../src/sources/inputError.js';
import { toBigInt } from '../../src/sources/rootRead.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { chooseTree, openRootTree } from '../../src/sources/rootTree.js';
import { toStatus } from '../../src/grpc/errors.js';
import { status } from '@grpc/grpc-js';
import type { ReadOptions } from '../../src/sources/types.js';
import { consumeSlowly } from '../grpc/helpers.js';
import { batchValues, checksum, HZZ, NANO, referenceRead, ROOT_DIR, ZMUMU } from './reference.js';

const read = (paths: string[], columns?: string[], batchRows = 500, tree?: string) =>
  lastValueFrom(rootSource(paths, { tree }).batches({ columns, batchRows }).pipe(toArray()));

/** Events per file, as listed in the data README (the files were written by ROOT/uproot). */
const SAMPLES: { file: string; tree: string; events: number; branches: string[] }[] = [
  {
    file: 'uproot-HZZ.root',
    tree: 'events',
    events: 2421,
    branches: ['NJet', 'NMuon', 'Jet_Px', 'Jet_ID', 'Muon_Charge', 'Muon_E', 'MET_px', 'triggerIsoMu24', 'EventWeight'],
  },
  { file: 'uproot-Zmumu.root', tree: 'events', events: 2304, branches: ['Run', 'Event', 'px1', 'Q2', 'M'] },
  {
    file: 'nanoAOD_2015_CMS_Open_Data_ttbar.root',
    tree: 'Events',
    events: 200,
    branches: [
      'event',
      'run',
      'nJet',
      'nMuon',
      'MET_pt',
      'Jet_pt',
      'Jet_jetId',
      'Muon_pt',
      'Muon_tightId',
      'HLT_IsoMu20',
      'PV_npvs',
    ],
  },
];
const VARIANTS: Record<string, string> = {
  'uproot-HZZ-lz4.root': 'uproot-HZZ.root',
  'uproot-HZZ-lzma.root': 'uproot-HZZ.root',
  'uproot-HZZ-zstd.root': 'uproot-HZZ.root',
  'uproot-Zmumu-zstd.root': 'uproot-Zmumu.root',
};

describe('rootSource on the real ROOT files', () => {
  it('covers every file in the data folder', () => {
    const files = readdirSync(ROOT_DIR).filter((f) => f.endsWith('.root'));
    expect(files.sort()).toEqual([...SAMPLES.map((s) => s.file), ...Object.keys(VARIANTS)].sort());
  });

  for (const s of SAMPLES) {
    it(`${s.file}: event count and branch checksums match jsroot's own TSelector`, async () => {
      const path = `${ROOT_DIR}/${s.file}`;
      const batches = await read([path], s.branches, 333);
      expect(batches.reduce((n, b) => n + b.length, 0)).toBe(s.events);
      expect(batches.map((b) => b.length)).toEqual(
        Array.from({ length: Math.ceil(s.events / 333) }, (_, i) => Math.min(333, s.events - i * 333)),
      );
      expect(batches.map((b) => b.origin?.firstRow)).toEqual(batches.map((_, i) => i * 333));
      const ref = await referenceRead(path, s.tree, s.branches);
      for (const b of s.branches) {
        expect(ref[b]).toHaveLength(s.events);
        expect(checksum(batchValues(batches, b)), b).toBe(checksum(ref[b]));
      }
      const info = await rootSource([path]).describe();
      expect(info.rows).toBe(s.events);
      expect(info.bytesOnDisk).toBe(statSync(path).size);
    });
  }

  for (const [variant, plain] of Object.entries(VARIANTS)) {
    it(`${variant} reads identically to ${plain}`, async () => {
      const [a, b] = await Promise.all([read([`${ROOT_DIR}/${variant}`]), read([`${ROOT_DIR}/${plain}`])]);
      const x = concatBatches(a);
      const y = concatBatches(b);
      expect(x.schema).toEqual(y.schema);
      expect(x.schema.length).toBeGreaterThan(15);
      expect(x.length).toBe(y.length);
      for (const f of x.schema)
        expect(checksum(batchValues([x], f.name)), f.name).toBe(checksum(batchValues([y], f.name)));
    });
  }

  it('matches values published for the Zmumu sample (uproot tutorial)', async () => {
    const [b] = await read([ZMUMU], ['Run', 'Event', 'px1'], 3);
    expect(Array.from(b.columns.Run.values as Int32Array)).toEqual([148031, 148031, 148031]);
    expect(Array.from(b.columns.Event.values as Int32Array)).toEqual([10507008, 10507008, 10507008]);
    expect(Array.from(b.columns.px1.values as Float64Array)).toEqual([-41.1952876442, 35.1180497674, 35.1180497674]);
  });

  it('reads jagged branches as list columns whose lengths are the counter branch', async () => {
    const b = concatBatches(await read([NANO], ['nJet', 'Jet_pt', 'count(Jet_pt)', 'first(Jet_pt)']));
    const jets = b.columns.Jet_pt;
    expect(b.schema.map((f) => [f.name, f.type, f.list])).toEqual([
      ['nJet', 'uint32', false],
      ['Jet_pt', 'float32', true],
      ['count(Jet_pt)', 'int32', false],
      ['first(Jet_pt)', 'float64', false],
    ]);
    if (jets.kind !== 'list') throw new Error('Jet_pt should be a list column');
    let empty = 0;
    for (let i = 0; i < b.length; i++) {
      const n = jets.offsets[i + 1] - jets.offsets[i];
      expect(n).toBe(b.columns.nJet.values[i]);
      expect(b.columns['count(Jet_pt)'].values[i]).toBe(n);
      if (n === 0) {
        empty++;
        expect(b.columns['first(Jet_pt)'].values[i]).toBeNaN();
      } else expect(b.columns['first(Jet_pt)'].values[i]).toBe(jets.values[jets.offsets[i]]);
    }
    expect(jets.values.length).toBe(jets.offsets[b.length]);
    expect(empty).toBeLessThan(b.length);
  });

  it('computes abs() and reads uint64 event numbers as int64', async () => {
    const b = concatBatches(await read([NANO], ['event', 'Jet_eta', 'abs(MET_phi)', 'MET_phi']));
    expect(b.schema[0].type).toBe('int64');
    const ref = await referenceRead(NANO, 'Events', ['event']);
    expect(Array.from(b.columns.event.values as BigInt64Array, Number)).toEqual(ref.event);
    const phi = b.columns.MET_phi.values;
    b.columns['abs(MET_phi)'].values.forEach((v, i) => expect(v).toBe(Math.abs(Number(phi[i]))));
  });

  it('decodes scalar-only reads in runs (count() needs only the counter) with the same values', async () => {
    const batches = await read([HZZ], ['count(Jet_Px)', 'abs(MET_px)'], 700);
    const ref = await referenceRead(HZZ, 'events', ['NJet', 'MET_px']);
    expect(batchValues(batches, 'count(Jet_Px)')).toEqual(ref.NJet);
    expect(batchValues(batches, 'abs(MET_px)')).toEqual((ref.MET_px as number[]).map(Math.abs));
  });

  it('projects only the requested columns, and by default every readable branch', async () => {
    const [b] = await read([HZZ], ['MET_py', 'NMuon']);
    expect(Object.keys(b.columns)).toEqual(['MET_py', 'NMuon']);
    const info = await rootSource([ZMUMU]).describe();
    // 'Type' is a string branch: left out of the default projection.
    expect(info.schema.map((f) => f.name)).not.toContain('Type');
    expect(info.schema).toHaveLength(19);
  });

  it('pushes hard cuts down: drops failing events and the columns read only for the cut', async () => {
    const where = [
      { column: 'first(Jet_Px)', op: '>' as const, value: 20 },
      { column: 'MET_px', op: 'between' as const, low: -30, high: 30 },
    ];
    const cut = await lastValueFrom(
      rootSource([HZZ])
        .batches({ columns: ['NJet', 'Jet_Py'], where, batchRows: 400 })
        .pipe(toArray()),
    );
    const all = concatBatches(await read([HZZ], ['NJet', 'Jet_Py', 'first(Jet_Px)', 'MET_px'], 2421));
    const mask = passMask(all, where);
    const kept = mask.reduce((s, m) => s + m, 0);
    expect(kept).toBeGreaterThan(50);
    expect(kept).toBeLessThan(all.length / 2);
    const got = concatBatches(cut);
    expect(Object.keys(got.columns)).toEqual(['NJet', 'Jet_Py']);
    expect(batchValues([got], 'Jet_Py')).toEqual(batchValues([all], 'Jet_Py').filter((_, i) => mask[i]));
    // Each batch's origin names the entry of its first event, as a Parquet pass does.
    const passing = Array.from(mask).flatMap((m, i) => (m ? [i] : []));
    let seen = 0;
    for (const b of cut) {
      expect(b.origin?.firstRow).toBe(passing[seen]);
      seen += b.length;
    }
  });

  it('streams several files one after the other', async () => {
    const batches = await read([HZZ, `${ROOT_DIR}/uproot-HZZ-zstd.root`], ['NJet'], 1000);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 421, 1000, 1000, 421]);
    expect(batches[3].origin).toEqual({ file: `${ROOT_DIR}/uproot-HZZ-zstd.root`, firstRow: 0 });
    const files = (await expandInputs([`${ROOT_DIR}/uproot-HZZ*.root`], process.cwd(), 'root')).map((f) => f.path);
    const info = await rootSource(files).describe();
    expect(info.files).toHaveLength(4);
    expect(info.rows).toBe(4 * 2421);
  });

  it('reads a file named like a pattern as that file (z[1].root is not z1.root)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diffskim-root-names-'));
    try {
      copyFileSync(HZZ, join(dir, 'z[1].root'));
      copyFileSync(`${ROOT_DIR}/uproot-Zmumu.root`, join(dir, 'z1.root'));
      const hzz = await rootSource([HZZ]).describe();
      const info = await rootSource([join(dir, 'z[1].root')]).describe();
      expect([info.files.map((f) => f.path), info.rows]).toEqual([[join(dir, 'z[1].root')], hzz.rows]);
      await expect(rootSource([join(dir, 'z*.root')]).describe()).rejects.toThrow(/z\*\.root/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes per-branch compressed bytes and value counts', async () => {
    const info = await rootSource([HZZ], { branches: ['NJet', 'Jet_Px', 'Muon_Px', 'count(Jet_Px)'] }).describe();
    const ref = await referenceRead(HZZ, 'events', ['NJet']);
    const jets = (ref.NJet as number[]).reduce((a, b) => a + b, 0);
    expect(info.columnValues).toEqual({ NJet: 2421, Jet_Px: jets, Muon_Px: expect.any(Number), 'count(Jet_Px)': 2421 });
    // Muon_Px has two baskets on disk: 16964 + 1655 compressed bytes (TBranch fBasketBytes, = fZipBytes).
    expect(info.columnBytes.Muon_Px).toBe(16964 + 1655);
    expect(info.columnBytes['count(Jet_Px)']).toBe(info.columnBytes.NJet);
    // NanoAOD keeps its baskets inside the TTree object (key: 336143 of 1557301 bytes compressed):
    // estimated bytes, positive for every branch that stores values, and in total below that key.
    const nano = await rootSource([NANO]).describe();
    const names = Object.keys(nano.columnBytes);
    expect(names).toHaveLength(947);
    expect(names.filter((n) => nano.columnValues[n] > 0 && !(nano.columnBytes[n] > 0))).toEqual([]);
    expect(names.filter((n) => nano.columnValues[n] === 0 && nano.columnBytes[n] !== 0)).toEqual([]);
    const total = Object.values(nano.columnBytes).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0.3 * 336143);
    expect(total).toBeLessThan(336143);
  });

  it('reads entry ranges (one jsroot pass each) into the same batches and values as one whole pass', async () => {
    const cases: [string, string, string[], number, number][] = [
      [HZZ, 'events', ['NJet', 'Jet_Px', 'Muon_E', 'MET_px', 'first(Jet_Px)'], 100, 250],
      [HZZ, 'events', ['count(Jet_Px)', 'abs(MET_px)'], 70, 100], // scalar-only: decoded in runs
      [NANO, 'Events', ['event', 'nJet', 'Jet_pt', 'Muon_pt', 'HLT_IsoMu20'], 30, 45],
    ];
    for (const [path, tree, columns, batchRows, rangeEntries] of cases) {
      const ranged = await lastValueFrom(
        rootSource([path], { tree, rangeEntries }).batches({ columns, batchRows }).pipe(toArray()),
      );
      const whole = await read([path], columns, batchRows);
      const entries = whole.reduce((n, b) => n + b.length, 0);
      expect(Math.ceil(entries / (Math.ceil(rangeEntries / batchRows) * batchRows))).toBeGreaterThan(3); // several passes
      expect(ranged.map((b) => [b.length, b.origin?.firstRow])).toEqual(
        whole.map((b) => [b.length, b.origin?.firstRow]),
      );
      for (const c of columns)
        expect(checksum(batchValues(ranged, c)), `${path} ${c}`).toBe(checksum(batchValues(whole, c)));
    }
  });

  it('a slow asynchronous consumer holding the demand keeps the reading paced to it', async () => {
    const pass = async (demand?: Demand) => {
      let emitted = 0;
      let written = 0;
      let maxAhead = 0;
      const source = rootSource([HZZ], { rangeEntries: 200 });
      const counting = {
        ...source,
        batches: (o: ReadOptions) =>
          source.batches({ ...o, columns: ['NJet', 'Jet_Px'], batchRows: 100 }).pipe(tap(() => emitted++)),
      };
      await consumeSlowly(counting, 8, demand, () => {
        written++;
        maxAhead = Math.max(maxAhead, emitted - written);
      });
      return { written, maxAhead };
    };
    const paced = await pass(new Demand());
    expect(paced.written).toBe(25);
    // Read but not yet emitted: at most one range (2 batches); emitted but not written: at most 1.
    expect(paced.maxAhead).toBeLessThanOrEqual(1);
    const unpaced = await pass(undefined);
    expect(unpaced.written).toBe(25);
    expect(unpaced.maxAhead).toBeGreaterThanOrEqual(10); // without the demand the test above would fail
  });

  it('stops reading and closes the file when the subscriber unsubscribes', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const first: EventBatch = await firstValueFrom(
      rootSource([HZZ])
        .batches({ columns: ['Jet_Px'], batchRows: 100 })
        .pipe(take(1)),
    );
    expect(first.length).toBe(100);
    await new Promise((r) => setTimeout(r, 50));
    expect(fds()).toBe(before);
  });
});

describe('rootSource errors', () => {
  const error = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: Error) => e.message,
    );
  /** Runs `fn` with a fresh temporary folder for damaged copies, removed afterwards. */
  const inTempDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'diffskim-badroot-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('names the closest branches when one is missing', async () => {
    const msg = await error(read([NANO], ['jet_pT']));
    expect(msg).toContain(NANO);
    expect(msg).toContain("no branch 'jet_pT'");
    expect(msg).toMatch(/closest: Jet_pt/);
  });

  it('lists the trees when the tree is missing', async () => {
    expect(await error(read([HZZ], ['NJet'], 100, 'Events'))).toBe(
      `${HZZ}: no tree 'Events' (trees in the file: events)`,
    );
  });

  it('says which branch type is unsupported', async () => {
    const msg = await error(read([ZMUMU], ['Type']));
    expect(msg).toContain("branch 'Type'");
    expect(msg).toContain('string (TLeafC)');
  });

  it('refuses list quantities on flat branches', async () => {
    expect(await error(read([HZZ], ['first(MET_px)']))).toContain(
      "first() takes a list, and 'MET_px' is one value per event at 1:7",
    );
  });

  it('64-bit integers stay exact beyond 2^53 (jsroot gives them as BigInt), and one beyond 2^63 is named', () => {
    const where = () => 'f.root: entry 7';
    expect(toBigInt(9007199254740993n, where)).toBe(9007199254740993n);
    expect(toBigInt(1152921504606859321n, where)).toBe(1152921504606859321n);
    expect(toBigInt(-42, where)).toBe(-42n);
    expect(() => toBigInt(2n ** 63n + 5n, where)).toThrow(
      'f.root: entry 7: value 9223372036854775813 does not fit a signed 64-bit integer',
    );
  });

  it('without a tree name reads the only tree, else Events (NanoAOD also holds Runs, ...), else asks for one', () => {
    expect(chooseTree('f.root', ['events'])).toBe('events');
    expect(chooseTree('f.root', ['Runs', 'Events', 'LuminosityBlocks'])).toBe('Events');
    expect(chooseTree('f.root', ['Runs', 'Events'], 'Runs')).toBe('Runs');
    expect(() => chooseTree('f.root', ['a', 'b'])).toThrow(
      'f.root: contains several trees (a, b) and none is named Events; choose one with --tree',
    );
    expect(() => chooseTree('f.root', [])).toThrow('f.root: contains no TTree');
  });

  it('names a file that does not exist, keeping its error code (ENOENT, so NOT_FOUND as a gRPC status; the code was lost)', async () => {
    const e = await openRootTree('/nonexistent/x.root').then(
      () => new Error('no error'),
      (x: Error) => x,
    );
    expect(e.message).toContain('/nonexistent/x.root: cannot open ROOT file');
    expect(toStatus(e).code).toBe(status.NOT_FOUND);
  });

  it('a truncated copy is named as truncated, at any length (jsroot read its keys as none: "contains no TTree"), and a non-ROOT file as such', async () => {
    await inTempDir(async (dir) => {
      for (const source of [HZZ, NANO]) {
        const bytes = readFileSync(source);
        for (const keep of [10, 1000, Math.floor(bytes.length / 2), bytes.length - 1]) {
          const cut = join(dir, `${keep}.root`);
          writeFileSync(cut, bytes.subarray(0, keep));
          const msg = await error(read([cut], undefined, 1000));
          expect(msg).toMatch(new RegExp(`^${cut}: truncated ROOT file`));
          if (keep > 100) expect(msg).toContain(`${keep} bytes on disk, its header says ${bytes.length}`);
        }
      }
      const other = join(dir, 'other.root');
      writeFileSync(other, 'PAR1 not a ROOT file at all');
      expect(await error(read([other]))).toBe(`${other}: not a ROOT file (it does not start with 'root')`);
    });
  });

  it('a tree object or key list that does not decode is an input error naming the file (the tree\'s was "Fail to UNZIP buffer for events", INTERNAL over gRPC)', async () => {
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => new Error('no error'),
        (e: Error) => e,
      );
    await inTempDir(async (dir) => {
      const damaged = (name: string, from: number) => {
        const bytes = readFileSync(HZZ);
        bytes.fill(0x7f, from, from + 64);
        writeFileSync(join(dir, name), bytes);
        return join(dir, name);
      };
      const tree = damaged('tree.root', 210_680); // inside the TTree object (key 'events', bytes 209535-213275)
      const e = await failure(read([tree]));
      expect(e.message).toMatch(new RegExp(`^${tree}: cannot read tree 'events': `));
      expect(e instanceof InputError && e.kind).toBe('unreadable');
      const keys = damaged('keys.root', 140); // the top directory's key list
      const k = await failure(read([keys]));
      expect(k.message).toBe(`${keys}: contains no TTree`);
      expect(k instanceof InputError && k.kind).toBe('unreadable');
    });
  });

  it('a tree object that decodes only in part (holes in its branch list) is an input error naming the file (was a TypeError reading fBranches)', async () => {
    await inTempDir(async (dir) => {
      for (const from of [50_349, 113_286]) {
        const bytes = readFileSync(NANO);
        bytes.fill(0x7f, from, from + 64); // inside the Events TTree object's branches
        const bad = join(dir, `nano-${from}.root`);
        writeFileSync(bad, bytes);
        const e = await read([bad]).then(
          () => new Error('no error'),
          (x: Error) => x,
        );
        expect(e.message).toBe(`${bad}: cannot read tree 'Events': its list of branches did not decode`);
        expect(e instanceof InputError && e.kind).toBe('unreadable');
      }
    });
  });

  it('a basket that does not decode fails the read naming the file and tree (jsroot let it escape, ending the process)', async () => {
    await inTempDir(async (dir) => {
      const bytes = readFileSync(HZZ);
      for (let i = 100_000; i < 100_064; i++) bytes[i] ^= 0x5a; // inside Jet_Px's baskets
      const bad = join(dir, 'hzz-damaged.root');
      writeFileSync(bad, bytes);
      expect(await error(read([bad], undefined, 1000))).toMatch(new RegExp(`^${bad}: cannot read tree 'events': `));
    });
  });
});
