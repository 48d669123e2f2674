import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { openFile } from 'jsroot/io';
import type { DType } from '../batch/schema.js';
import { closestNames } from '../util/closest.js';
import { InputError } from './inputError.js';

/**
 * A TTree opened with jsroot, and what diffskim can read of it: branches with one numeric
 * leaf, either a scalar per event (flat column), an array counted by another branch such as
 * nJet (jagged list column), or a fixed-length array (list column of constant length); and
 * branches of a whole std::vector of numbers (jagged list column, each event's length its own).
 */
export interface RootBranch {
  name: string;
  type: DType;
  /** Values per event vary (counted by `counter`, or a vector's own) or are fixed (`fixedLength`). */
  list: boolean;
  /** Name of the branch that holds each event's list length (e.g. 'nJet'). */
  counter?: string;
  fixedLength?: number;
  /** Compressed bytes on disk (see branchCompressedBytes). */
  compressedBytes: number;
  /** The jsroot TBranch object. */
  jsroot: JsrootBranch;
}

export interface RootTree {
  path: string;
  name: string;
  entries: number;
  /** File size on disk. */
  bytes: number;
  /** Readable branches in tree order. */
  branches: Map<string, RootBranch>;
  /** Branches that diffskim cannot read, with the reason. */
  unsupported: Map<string, string>;
  /** The jsroot TTree object (input to treeProcess). */
  jsroot: unknown;
  close(): void;
}

/* The parts of jsroot's (untyped) objects that are used here. */
interface JsrootLeaf {
  _typename: string;
  fName: string;
  fLen: number;
  fIsUnsigned?: boolean;
  fLeafCount?: { fName: string } | null;
}
interface JsrootBasket {
  fKeylen: number;
  fLast: number;
}
export interface JsrootBranch {
  _typename: string;
  fName: string;
  fClassName?: string;
  /** TBranchElement: -1 for a whole object (not a member of a split one), its type 0. */
  fID?: number;
  fType?: number;
  fEntries: number;
  fWriteBasket: number;
  fBasketBytes: ArrayLike<number>;
  /** First entry of each basket written to the file (and of the one kept in the TTree, if any). */
  fBasketEntry: ArrayLike<number>;
  fLeaves: { arr: JsrootLeaf[] };
  fBranches: { arr: JsrootBranch[] };
  fBaskets: { arr: (JsrootBasket | null)[] };
}
interface JsrootKey {
  fName: string;
  fClassName: string;
  fNbytes: number;
  fKeylen: number;
  fObjlen: number;
}
interface JsrootFile {
  fd?: number;
  fKeys: JsrootKey[];
  readObject(name: string): Promise<{ _typename: string; fEntries: number; fBranches: { arr: JsrootBranch[] } }>;
  readDirectory(name: string): Promise<{ fKeys: JsrootKey[] }>;
}

const TREE_CLASSES = new Set(['TTree', 'TNtuple', 'TNtupleD']);
const DIRECTORY_CLASSES = new Set(['TDirectory', 'TDirectoryFile']);

/** Open `path` and its tree (the only tree in the file when `treeName` is not given). */
export async function openRootTree(path: string, treeName?: string): Promise<RootTree> {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch (e) {
    throw cannotOpen(path, e);
  }
  checkRootHeader(path, bytes);
  let file: JsrootFile;
  try {
    file = (await openFile(path)) as JsrootFile;
  } catch (e) {
    throw new InputError('unreadable', `${path}: not a readable ROOT file: ${(e as Error).message}`);
  }
  const close = () => closeRootFile(file);
  try {
    const keys = await treeKeys(path, file);
    const name = chooseTree(path, [...keys.keys()], treeName);
    const tree = await readTreeObject(path, file, name);
    if (!TREE_CLASSES.has(tree._typename)) throw new Error(`${path}: '${name}' is a ${tree._typename}, not a TTree`);
    const key = keys.get(name);
    // Baskets written inside the TTree object itself share its key's compression.
    const treeRatio = key && key.fObjlen > 0 ? (key.fNbytes - key.fKeylen) / key.fObjlen : 1;
    const branches = new Map<string, RootBranch>();
    const unsupported = new Map<string, string>();
    const all = tree.fBranches ? allBranches(tree.fBranches.arr) : null;
    if (!all)
      throw new InputError('unreadable', `${path}: cannot read tree '${name}': its list of branches did not decode`);
    const names = new Set(all.map((b) => b.fName));
    for (const b of all) {
      const r = describeBranch(b, names, treeRatio);
      if (typeof r === 'string') unsupported.set(b.fName, r);
      else branches.set(b.fName, r);
    }
    return { path, name, entries: tree.fEntries, bytes, branches, unsupported, jsroot: tree, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** A file system error naming the file; its code (ENOENT, EACCES, ...) is kept for the gRPC status. */
function cannotOpen(path: string, e: unknown): Error {
  return Object.assign(new Error(`${path}: cannot open ROOT file: ${(e as Error).message}`), {
    code: (e as NodeJS.ErrnoException).code,
  });
}

/**
 * A ROOT file's header names where its data ends (fEND). A file shorter than that is an
 * incomplete copy, or was never closed by its writer; jsroot would then misread its keys
 * ("contains no TTree") or fail deep in its streamers, so it is refused here by name.
 */
function checkRootHeader(path: string, size: number): void {
  const head = Buffer.alloc(24);
  let got: number;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw cannotOpen(path, e);
  }
  if (got < 4 || head.toString('latin1', 0, 4) !== 'root')
    throw new InputError('unreadable', `${path}: not a ROOT file (it does not start with 'root')`);
  if (got < 16)
    throw new InputError('unreadable', `${path}: truncated ROOT file (${size} bytes, shorter than its header)`);
  // fVersion, fBEGIN, then fEND: 32 bits, or 64 bits in files written for large sizes.
  const large = head.readUInt32BE(4) >= 1_000_000;
  if (large && got < 20)
    throw new InputError('unreadable', `${path}: truncated ROOT file (${size} bytes, shorter than its header)`);
  const end = large ? Number(head.readBigUInt64BE(12)) : head.readUInt32BE(12);
  if (size < end)
    throw new InputError(
      'unreadable',
      `${path}: truncated ROOT file: ${size} bytes on disk, its header says ${end} (an incomplete copy, or a file its writer never closed)`,
    );
}

/** The tree's own object; jsroot's error (a key that does not unzip) names neither file nor tree. */
async function readTreeObject(path: string, file: JsrootFile, name: string): ReturnType<JsrootFile['readObject']> {
  try {
    return await file.readObject(name);
  } catch (e) {
    throw new InputError('unreadable', `${path}: cannot read tree '${name}': ${(e as Error).message}`);
  }
}

/** jsroot's Node file keeps its descriptor open; close it ourselves. */
function closeRootFile(file: JsrootFile): void {
  if (file.fd !== undefined) {
    closeSync(file.fd);
    file.fd = undefined;
  }
}

/**
 * The tree to read: `treeName`, else the only tree, else 'Events' (NanoAOD files also hold Runs,
 * LuminosityBlocks, ...: the gRPC server, whose requests name no tree, reads them so).
 */
export function chooseTree(path: string, trees: string[], treeName?: string): string {
  if (treeName === undefined) {
    if (trees.length === 1) return trees[0];
    // No tree is also what a damaged key list reads as: the file's problem, as a corrupt one's.
    if (trees.length === 0) throw new InputError('unreadable', `${path}: contains no TTree`);
    if (trees.includes('Events')) return 'Events';
    throw new InputError(
      'incompatible',
      `${path}: contains several trees (${trees.join(', ')}) and none is named Events; choose one with --tree (source.tree in a pipeline)`,
    );
  }
  if (trees.includes(treeName)) return treeName;
  const hint = trees.length
    ? `trees in the file: ${closestNames(treeName, trees).join(', ')}`
    : 'the file contains no TTree';
  throw new Error(`${path}: no tree '${treeName}' (${hint})`);
}

/** The names of a ROOT file's trees ('dir/tree' for those in directories). */
export async function rootTreeNames(path: string): Promise<string[]> {
  let file: JsrootFile;
  try {
    file = (await openFile(path)) as JsrootFile;
  } catch (e) {
    throw new InputError('unreadable', `${path}: not a readable ROOT file: ${(e as Error).message}`);
  }
  try {
    return [...(await treeKeys(path, file)).keys()];
  } finally {
    closeRootFile(file);
  }
}

/**
 * The keys of a file's trees by name, those in its directories too ('dir/tree'); a tree written
 * in several cycles is listed once.
 */
async function treeKeys(path: string, file: JsrootFile): Promise<Map<string, JsrootKey>> {
  const found = new Map<string, JsrootKey>();
  const walk = async (keys: JsrootKey[], prefix: string): Promise<void> => {
    for (const k of keys) {
      const name = prefix + k.fName;
      if (TREE_CLASSES.has(k.fClassName)) found.set(name, found.get(name) ?? k);
      else if (DIRECTORY_CLASSES.has(k.fClassName)) await walk(await directoryKeys(path, file, name), `${name}/`);
    }
  };
  await walk(file.fKeys, '');
  return found;
}

async function directoryKeys(path: string, file: JsrootFile, name: string): Promise<JsrootKey[]> {
  try {
    return (await file.readDirectory(name)).fKeys;
  } catch (e) {
    throw new InputError('unreadable', `${path}: cannot read directory '${name}': ${(e as Error).message}`);
  }
}

/** The trees of the ROOT file `path`, those in its directories too ('dir/tree'). */
export async function listTrees(path: string): Promise<string[]> {
  checkRootHeader(path, statSync(path).size);
  const file = (await openFile(path)) as JsrootFile;
  try {
    return [...(await treeKeys(path, file)).keys()];
  } finally {
    closeRootFile(file);
  }
}

/**
 * Branches and their sub-branches, depth first, in tree order; null when a list has a hole (a
 * tree object that decoded only in part: jsroot logs 'Missmatch in TBranch ... bytecount'), or
 * a leaf without its fields.
 */
function allBranches(list: (JsrootBranch | null | undefined)[]): JsrootBranch[] | null {
  const out: JsrootBranch[] = [];
  for (const b of list) {
    const below = b ? allBranches(b.fBranches?.arr ?? []) : null;
    // A leaf decoded without its fields (jsroot: 'Not found streamer for TLeafD ver 1') is a hole too.
    if (!b || !below || b.fLeaves?.arr.some((leaf) => typeof leaf?.fLen !== 'number')) return null;
    out.push(b, ...below);
  }
  return out;
}

const LEAF_TYPES: Record<string, [DType, DType]> = {
  // leaf class: [signed type, unsigned type]
  TLeafF: ['float32', 'float32'],
  TLeafD: ['float64', 'float64'],
  TLeafO: ['bool', 'bool'],
  TLeafB: ['int8', 'uint8'],
  TLeafS: ['int16', 'uint16'],
  TLeafI: ['int32', 'uint32'],
  // ULong64_t (e.g. NanoAOD 'event') is stored as int64; values at or above 2^63 are refused when read.
  TLeafL: ['int64', 'int64'],
};

/** Element types of the std::vector branches read, by their C++ or ROOT name. */
const VECTOR_TYPES: Record<string, DType> = {
  bool: 'bool',
  Bool_t: 'bool',
  char: 'int8',
  Char_t: 'int8',
  'unsigned char': 'uint8',
  UChar_t: 'uint8',
  short: 'int16',
  Short_t: 'int16',
  'unsigned short': 'uint16',
  UShort_t: 'uint16',
  int: 'int32',
  Int_t: 'int32',
  'unsigned int': 'uint32',
  UInt_t: 'uint32',
  // 64-bit unsigned ones as int64, as ULong64_t leaves: values at or above 2^63 are refused when read.
  long: 'int64',
  'long long': 'int64',
  Long64_t: 'int64',
  'unsigned long': 'int64',
  'unsigned long long': 'int64',
  ULong64_t: 'int64',
  float: 'float32',
  Float_t: 'float32',
  double: 'float64',
  Double_t: 'float64',
};

/** A readable branch, or why it cannot be read. */
function describeBranch(b: JsrootBranch, names: Set<string>, treeRatio: number): RootBranch | string {
  const leaves = b.fLeaves?.arr ?? [];
  const vectorOf = /^vector<\s*([\w ]+?)\s*>$/.exec(b.fClassName ?? '')?.[1];
  // A whole std::vector of numbers in a branch of its own (not a member of a split object).
  const wholeObject = b._typename === 'TBranchElement' && b.fID === -1 && b.fType === 0 && !b.fBranches?.arr.length;
  if (wholeObject && vectorOf && VECTOR_TYPES[vectorOf]) {
    const compressedBytes = branchCompressedBytes(b, treeRatio);
    return { name: b.fName, type: VECTOR_TYPES[vectorOf], list: true, compressedBytes, jsroot: b };
  }
  if (b._typename !== 'TBranch')
    return `${b._typename}${b.fClassName ? ` of class ${b.fClassName}` : ''} (objects and STL collections are not supported)`;
  if (leaves.length !== 1) return `${leaves.length} leaves in one branch (leaf lists are not supported)`;
  const leaf = leaves[0];
  if (leaf._typename === 'TLeafC') return 'a string (TLeafC) branch (strings are not supported)';
  const types = LEAF_TYPES[leaf._typename];
  if (!types) return `leaf type ${leaf._typename} is not supported`;
  const type = types[leaf.fIsUnsigned ? 1 : 0];
  const compressedBytes = branchCompressedBytes(b, treeRatio);
  const base = { name: b.fName, type, compressedBytes, jsroot: b };
  if (leaf.fLeafCount) {
    const counter = leaf.fLeafCount.fName;
    if (!names.has(counter)) return `its length is counted by leaf '${counter}', which is not a branch of its own`;
    if (leaf.fLen > 1) return `an array of fixed-length arrays (counted by '${counter}') is not supported`;
    return { ...base, list: true, counter };
  }
  if (leaf.fLen > 1) {
    // jsroot reads a fixed-length Char_t array (ai1[3]/B) as a text string, which loses every
    // value from the first zero on; marked unsigned, it reads the bytes, which rootRead views as int8.
    if (type === 'int8') leaf.fIsUnsigned = true;
    return { ...base, list: true, fixedLength: leaf.fLen };
  }
  return { ...base, list: false };
}

/**
 * Compressed bytes of a branch: its baskets written to the file (fBasketBytes), plus the
 * basket(s) kept inside the TTree object, which ROOT writes when a tree is saved before a
 * basket fills (all of the small NanoAOD file). Those are counted at their uncompressed size
 * times the tree key's compression ratio, an estimate.
 */
function branchCompressedBytes(b: JsrootBranch, treeRatio: number): number {
  let bytes = 0;
  for (let k = 0; k < b.fWriteBasket; k++) bytes += b.fBasketBytes[k];
  for (const basket of b.fBaskets?.arr ?? [])
    if (basket) bytes += Math.ceil((basket.fLast - basket.fKeylen) * treeRatio);
  return bytes;
}

/** Most entries held by one basket of a branch (the last one ends at the branch's last entry). */
export function largestBasketEntries(b: JsrootBranch): number {
  let most = 0;
  for (let k = 0; k < b.fWriteBasket; k++) most = Math.max(most, b.fBasketEntry[k + 1] - b.fBasketEntry[k]);
  return Math.max(most, b.fEntries - (b.fBasketEntry[b.fWriteBasket] ?? 0));
}

/**
 * The readable branches, the columns read when none are named. A tree with none is refused before
 * anything is written, naming its branches and why each cannot be read (a Parquet file without
 * columns is one that no reader opens).
 */
export function readableBranches(tree: RootTree): string[] {
  if (tree.branches.size > 0) return [...tree.branches.keys()];
  const where = `${tree.path}: tree '${tree.name}'`;
  if (tree.unsupported.size === 0) {
    throw new InputError('incompatible', `${where} has no branches: there is nothing to read`);
  }
  const all = [...tree.unsupported].map(([name, why]) => `'${name}': ${why}`);
  const listed = all.length > 10 ? [...all.slice(0, 10), `and ${all.length - 10} more`] : all;
  const readable = 'numeric branches with one leaf, std::vectors of numbers';
  throw new InputError('incompatible', `${where} has no branch diffskim can read (${readable}): ${listed.join('; ')}`);
}

/** The readable branch `name`, or an error naming the file, the reason or the nearest names. */
export function requireBranch(tree: RootTree, name: string): RootBranch {
  const b = tree.branches.get(name);
  if (b) return b;
  const why = tree.unsupported.get(name);
  if (why) throw new Error(`${tree.path}: branch '${name}' of tree '${tree.name}' cannot be read: ${why}`);
  const near = closestNames(name, [...tree.branches.keys(), ...tree.unsupported.keys()]);
  throw new Error(`${tree.path}: tree '${tree.name}' has no branch '${name}' (closest: ${near.join(', ')})`);
}
