// tar.js - TAR at FAR 1e-3..1e-6 over all pairs of the photos given, as
// eval_embed lfw counts it (threshold: the floor(FAR x impostors)-th highest
// impostor score; accepted when above it; a pair is genuine when both photos
// are in one person's folder).
//
//   node tar.js A [B W[,W...]]
//
// A and B are TSV files (path, vector), each FILE[:FIRST_COLUMN[:DIM]]
// (eval_embed's dump: FILE:11:704 is the fused vector).  With B, on the
// photos both have: A alone, then score (1 - W) cos_A + W cos_B per weight.
'use strict';
const fs = require('fs');

function load(spec) {
  const [file, first, dim] = spec.split(':');
  const off = first ? +first : 1, m = new Map();
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!l) continue;
    const f = l.split('\t');
    m.set(f[0], Float32Array.from(f.slice(off, dim ? off + +dim : undefined), Number));
  }
  return m;
}
const [aSpec, bSpec, wArg] = process.argv.slice(2);
if (!aSpec || (bSpec && !wArg)) {
  console.error('usage: node tar.js A[:FIRST[:DIM]] [B[:FIRST[:DIM]] W[,W...]]');
  process.exit(2);
}
const A = load(aSpec), B = bSpec ? load(bSpec) : null;
const keys = [...A.keys()].filter(k => !B || B.has(k));
const who = keys.map(k => k.split('/').slice(-2)[0]);
const va = keys.map(k => A.get(k)), vb = B ? keys.map(k => B.get(k)) : null;
const n = keys.length, np = n * (n - 1) / 2;
const ca = new Float32Array(np), cb = B ? new Float32Array(np) : null, same = new Uint8Array(np);
const dot = (x, y) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * y[i]; return s; };
for (let i = 0, k = 0; i < n; i++)
  for (let j = i + 1; j < n; j++, k++) {
    ca[k] = dot(va[i], va[j]);
    if (B) cb[k] = dot(vb[i], vb[j]);
    same[k] = who[i] === who[j];
  }
let ngen = 0;
for (let k = 0; k < np; k++) ngen += same[k];
const FARS = [1e-3, 1e-4, 1e-5, 1e-6];
console.log(`${n} photos, ${ngen} genuine and ${np - ngen} impostor pairs; TAR at FAR ${FARS.join(' / ')}`);
for (const w of [...new Set([0, ...(wArg ? wArg.split(',').map(Number) : [])])]) {
  const gen = new Float32Array(ngen), imp = new Float32Array(np - ngen);
  for (let k = 0, g = 0, m = 0; k < np; k++) {
    const s = B ? (1 - w) * ca[k] + w * cb[k] : ca[k];
    if (same[k]) gen[g++] = s; else imp[m++] = s;
  }
  imp.sort().reverse();
  const tar = FARS.map(far => {
    const t = imp[Math.floor(far * imp.length)];
    let a = 0;
    for (const s of gen) a += s > t;
    return (100 * a / gen.length).toFixed(2) + ' %';
  });
  console.log(`${w === 0 ? 'A alone' : w === 1 ? 'B alone' : `weight ${w} on B`}: ${tar.join(' / ')}`);
}
