// Trunk post-build hook (Trunk.toml): makes the wasm and its JS glue smaller without changing what runs.
//
// 1. Short import names. wasm-bindgen names every import after the JS it binds plus a 16-hex-digit hash
// (`__wbg_setonmessage_8f5a...`), and each name is spelled twice in the download: in the wasm's import
// section and as a key of the JS glue's import object. ~260 such names are ~10 KB per file, and the
// hashes do not compress. This renames each import to a short name in both files, the same way, so
// the module links exactly as before. An import whose name the glue does not spell exactly once
// keeps its name.
// 2. The glue minified by terser (npm, scripts/tools), kept only if node still parses the result.
// Then it rewrites the integrity hashes of both files in index.html.
// 3. In release builds, a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy of the wasm, the
// glue and the CSS, which meshcall-server sends as they are to a browser that takes them: compressing
// the wasm per download cost the server 24-34 ms (brotli) before the page could start
// (docs/join-timeline.md), and quality 11 is smaller than what it made on the fly.
// 0. First, in release builds only: exports nothing calls. wasm-bindgen exports every `#[wasm_bindgen]`
// class of every crate linked in, and Leptos's server_fn brings wasm-streams' three stream classes,
// which this app never constructs; as exports they keep their code, their imports and their glue
// alive. The glue's exported classes and functions go (the page imports only `default` and
// `initSync`), then every wasm export the remaining glue does not name, then wasm-opt (binaryen, with
// index.html's settings) drops what only they reached, and the glue drops the imports the wasm no
// longer has. Any failure keeps both files as they were.
//
// node scripts/slim-dist.mjs [dir]   (dir: TRUNK_STAGING_DIR by default)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('usage: node scripts/slim-dist.mjs <dist dir> (or run as a Trunk hook)');
const release = process.env.TRUNK_PROFILE === 'release' || process.argv[3] === '--release';

const wasmName = fs.readdirSync(dir).find((f) => f.endsWith('_bg.wasm'));
if (!wasmName) throw new Error(`no *_bg.wasm in ${dir}`);
const jsName = wasmName.replace(/_bg\.wasm$/, '.js');
const wasmPath = path.join(dir, wasmName);
const jsPath = path.join(dir, jsName);
let wasm = fs.readFileSync(wasmPath);
let js = fs.readFileSync(jsPath, 'utf8');

// --- the wasm binary: sections, the import section's entries, the export names ---
function reader(buf, pos) {
  return {
    pos,
    byte() { return buf[this.pos++]; },
    u32() { let r = 0, s = 0, b; do { b = buf[this.pos++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; },
    s33() { let b; do { b = buf[this.pos++]; } while (b & 0x80); },
    name() { const n = this.u32(); const v = buf.toString('utf8', this.pos, this.pos + n); this.pos += n; return v; },
  };
}
function u32(n) {
  const out = [];
  do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
}
const nameBytes = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u32(b.length), b]); };

function sectionsOf(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmName} is not a wasm module`);
  const out = [];
  for (const r = reader(buf, 8); r.pos < buf.length;) {
    const at = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, at, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}
// The import section's entries: module, field and the bytes of the rest (the kind and its type).
function importsOf(buf) {
  const importSection = sectionsOf(buf).find((s) => s.id === 2);
  if (!importSection) throw new Error(`${wasmName} has no import section`);
  const out = [];
  const r = reader(buf, importSection.start);
  for (let count = r.u32(); count > 0; count--) {
    const module = r.name();
    const field = r.name();
    const descStart = r.pos;
    const kind = r.byte();
    const limits = () => { const flags = r.byte(); r.u32(); if (flags & 1) r.u32(); };
    const valtype = () => { const t = r.byte(); if (t === 0x63 || t === 0x64) r.s33(); };
    if (kind === 0) r.u32(); // function: type index
    else if (kind === 1) { valtype(); limits(); } // table
    else if (kind === 2) limits(); // memory
    else if (kind === 3) { valtype(); r.byte(); } // global
    else if (kind === 4) { r.byte(); r.u32(); } // tag
    else throw new Error(`unknown import kind ${kind} in ${wasmName}`);
    out.push({ module, field, desc: buf.subarray(descStart, r.pos) });
  }
  if (r.pos !== importSection.end) throw new Error(`import section of ${wasmName} did not parse to its end`);
  return { section: importSection, imports: out };
}

// --- 0. unused exports (release only) ---
if (release) {
  const before = { wasm: wasm.length, js: Buffer.byteLength(js) };
  try {
    const pruned = await pruneExports(wasm, js);
    if (pruned) {
      ({ wasm, js } = pruned);
      console.error(`slim-dist: unused exports dropped: ${pruned.dropped.join(', ')}; wasm ${before.wasm} -> ${wasm.length} B, glue ${before.js} -> ${Buffer.byteLength(js)} B`);
    }
  } catch (e) {
    console.error(`slim-dist: unused exports kept (${e.message})`);
  }
}

async function pruneExports(wasmIn, jsIn) {
  // Every exported class and function of the glue but the two the loader imports, with a class's
  // finalization registry and its Symbol.dispose line. wasm-bindgen writes each at column 0.
  let glue = jsIn;
  const gone = [];
  glue = glue.replace(/^export (class|function) ([A-Za-z_$][\w$]*)\b[\s\S]*?^\}\n/gm, (all, _, name) => {
    if (name === 'initSync') return all;
    gone.push(name);
    return '';
  });
  if (gone.length === 0) return null;
  for (const name of gone) {
    glue = glue.replace(new RegExp(`^if \\(Symbol\\.dispose\\) ${name}\\.prototype.*\\n`, 'm'), '');
    glue = glue.replace(new RegExp(`^const ${name}Finalization = [\\s\\S]*?\\);\\n`, 'm'), '');
    if (new RegExp(`\\b${name}\\b`).test(glue)) throw new Error(`the glue still uses ${name}`);
  }
  // The wasm's exports the glue still names (as wasm.<name>): the rest leave the export section.
  const named = new Set([...glue.matchAll(/\bwasm\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const secs = sectionsOf(wasmIn);
  const exportSec = secs.find((s) => s.id === 7);
  const kept = [];
  const dropped = [];
  const r = reader(wasmIn, exportSec.start);
  for (let count = r.u32(); count > 0; count--) {
    const start = r.pos;
    const name = r.name();
    r.byte();
    r.u32();
    (named.has(name) ? kept : dropped).push({ name, bytes: wasmIn.subarray(start, r.pos) });
  }
  const body = Buffer.concat([u32(kept.length), ...kept.map((e) => e.bytes)]);
  const unexported = Buffer.concat([wasmIn.subarray(0, exportSec.at), Buffer.from([7]), u32(body.length), body,
    wasmIn.subarray(exportSec.end)]);
  // wasm-opt with index.html's level and flags, and the features rustc's wasm32 target uses (the
  // first wasm-opt stripped their section).
  const html = fs.readFileSync(path.join(HERE, '..', 'index.html'), 'utf8');
  const level = /data-wasm-opt="([^"]+)"/.exec(html)?.[1] ?? 's';
  const params = (/data-wasm-opt-params="([^"]*)"/.exec(html)?.[1] ?? '').split(/\s+/).filter(Boolean);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slim-dist-'));
  let optimised;
  try {
    fs.writeFileSync(path.join(tmp, 'in.wasm'), unexported);
    execFileSync('wasm-opt', [path.join(tmp, 'in.wasm'), '-o', path.join(tmp, 'out.wasm'), `-O${level}`, ...params,
      '--enable-mutable-globals', '--enable-nontrapping-float-to-int', '--enable-bulk-memory', '--enable-sign-ext',
      '--enable-reference-types', '--enable-multivalue', '--enable-bulk-memory-opt',
      '--enable-call-indirect-overlong'], { stdio: ['ignore', 'ignore', 'pipe'] });
    optimised = fs.readFileSync(path.join(tmp, 'out.wasm'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // The glue's import entries (8 spaces in, `name: function(...) {` to `},`) the wasm no longer has.
  const still = new Set(importsOf(optimised).imports.map((imp) => imp.field));
  glue = glue.replace(/^ {8}(__wb[\w$]*): function\([\s\S]*?^ {8}\},\n/gm, (all, name) => (still.has(name) ? all : ''));
  return { wasm: optimised, js: glue, dropped: dropped.map((e) => e.name) };
}

const sections = sectionsOf(wasm);
const { section: importSection, imports } = importsOf(wasm);
const exportNames = new Set();
for (const s of sections.filter((x) => x.id === 7)) {
  const r = reader(wasm, s.start);
  for (let count = r.u32(); count > 0; count--) { exportNames.add(r.name()); r.byte(); r.u32(); }
}

// --- new names: only wasm-bindgen's own, only where the glue spells them once as a key ---
const TOKEN = /\b__wb(?:g|indgen)_[A-Za-z0-9_$]+/g;
const inJs = new Map();
for (const m of js.matchAll(TOKEN)) inJs.set(m[0], (inJs.get(m[0]) ?? 0) + 1);
const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const shortName = (i) => { let s = ''; do { s = ALPHA[i % 52] + s; i = Math.floor(i / 52) - 1; } while (i >= 0); return s; };
const rename = new Map();
for (const imp of imports) {
  if (rename.has(imp.field) || exportNames.has(imp.field)) continue;
  if (!/^__wb(g|indgen)_/.test(imp.field) || inJs.get(imp.field) !== 1) continue;
  // `_` first: no clash with the glue's own identifiers, no keyword.
  rename.set(imp.field, `_${shortName(rename.size)}`);
}
const newImports = Buffer.concat([u32(imports.length), ...imports.map((imp) =>
  Buffer.concat([nameBytes(imp.module), nameBytes(rename.get(imp.field) ?? imp.field), imp.desc]))]);
const newWasm = Buffer.concat([
  wasm.subarray(0, importSection.at),
  Buffer.from([2]), u32(newImports.length), newImports,
  wasm.subarray(importSection.end),
]);
js = js.replace(TOKEN, (t) => rename.get(t) ?? t);

// --- the glue, minified by terser (scripts/tools): local names shortened, whitespace and comments
// gone. Property names, and so the renamed import keys, stay as they are; node must still parse it.
const rawJsLength = Buffer.byteLength(js);
try {
  const { minify } = createRequire(path.join(HERE, 'tools', 'package.json'))('terser');
  const { code } = await minify(js, { module: true, ecma: 2020, compress: { passes: 2 }, mangle: true });
  const probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slim-dist-')), 'glue.mjs');
  fs.writeFileSync(probe, code);
  try {
    execFileSync(process.execPath, ['--check', probe], { stdio: 'ignore' });
    js = code;
  } finally {
    fs.rmSync(path.dirname(probe), { recursive: true, force: true });
  }
} catch (e) {
  console.error(`slim-dist: the glue was not minified (${e.message}); kept it as it was`);
}

// --- write both, then the integrity hashes of both in index.html ---
fs.writeFileSync(wasmPath, newWasm);
fs.writeFileSync(jsPath, js);
const htmlPath = path.join(dir, 'index.html');
let html = fs.readFileSync(htmlPath, 'utf8');
for (const [file, body] of [[wasmName, newWasm], [jsName, Buffer.from(js)]]) {
  html = html.replace(/<link\b[^>]*>/g, (tag) => {
    if (!tag.includes(file)) return tag;
    return tag.replace(/integrity=("?)sha(256|384|512)-[A-Za-z0-9+/=]+\1/, (_, q, bits) =>
      `integrity=${q}sha${bits}-${crypto.createHash(`sha${bits}`).update(body).digest('base64')}${q}`);
  });
}
fs.writeFileSync(htmlPath, html);
console.error(`slim-dist: ${rename.size} of ${imports.length} imports renamed; ${wasmName} ${wasm.length} -> ${newWasm.length} B; ${jsName} ${rawJsLength} -> ${Buffer.byteLength(js)} B`);

// --- 3. precompressed copies (release only: a debug wasm is tens of MB, and nobody downloads it twice) ---
if (release) {
  const made = [];
  for (const name of fs.readdirSync(dir).filter((f) => /\.(wasm|js|css)$/.test(f))) {
    const body = fs.readFileSync(path.join(dir, name));
    const br = zlib.brotliCompressSync(body, { params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
    const gz = zlib.gzipSync(body, { level: 9 });
    fs.writeFileSync(path.join(dir, `${name}.br`), br);
    fs.writeFileSync(path.join(dir, `${name}.gz`), gz);
    made.push(`${name} ${body.length} -> br ${br.length}, gz ${gz.length} B`);
  }
  console.error(`slim-dist: precompressed ${made.join('; ')}`);
}
