#!/usr/bin/env node
// bench/ort_bench.js - times one ONNX model in ONNX Runtime (CPU, 1 thread).
//
//   node bench/ort_bench.js MODEL.onnx --shape 1,112,112,3
//        [--input IN.f32] [--warmup 5] [--runs 50] [--out-prefix PREFIX]
//        [--seed 1]
//
// Session: intraOpNumThreads 1, interOpNumThreads 1, graphOptimizationLevel
// 'all', executionMode 'sequential', CPU execution provider.  The input is
// float32 of the given shape: read from IN.f32 (raw little-endian, exactly
// the shape's size) or uniform random in [-1, 1) from a fixed seed.  Runs
// `warmup` untimed inferences, then `runs` timed ones (wall clock around
// each session.run, which includes the small Node binding overhead).
// Prints one JSON object on stdout:
//   {"model":..., "shape":[...], "median_ms":..., "p90_ms":..., "min_ms":...,
//    "mean_ms":..., "runs":..., "warmup":..., "ort_version":...,
//    "outputs":[{"name":..., "shape":[...], "file":...}]}
// With --out-prefix, output i is written to PREFIX<i>_<name>.f32 (raw
// float32 little-endian) from the last run.
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
    ort = require('onnxruntime-node');
} catch (e) {
    console.error('ort_bench: cannot load onnxruntime-node (run `npm ci --ignore-scripts` in bench/): ' + e.message);
    process.exit(2);
}

function usage(msg) {
    if (msg) console.error('ort_bench: ' + msg);
    console.error('usage: node ort_bench.js MODEL.onnx --shape D0,D1,... [--input IN.f32] ' +
        '[--warmup W] [--runs R] [--out-prefix PREFIX] [--seed S]');
    process.exit(2);
}

function parseArgs(argv) {
    const o = { warmup: 5, runs: 50, seed: 1 };
    const rest = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const val = () => {
            if (i + 1 >= argv.length) usage(a + ' needs a value');
            return argv[++i];
        };
        if (a === '--shape') o.shape = val().split(',').map((s) => {
            const n = Number(s);
            if (!Number.isInteger(n) || n <= 0) usage('bad --shape ' + s);
            return n;
        });
        else if (a === '--input') o.input = val();
        else if (a === '--warmup') o.warmup = Number(val());
        else if (a === '--runs') o.runs = Number(val());
        else if (a === '--out-prefix') o.outPrefix = val();
        else if (a === '--seed') o.seed = Number(val());
        else if (a === '-h' || a === '--help') usage();
        else if (a.startsWith('--')) usage('unknown option ' + a);
        else rest.push(a);
    }
    if (rest.length !== 1) usage('need exactly one MODEL.onnx');
    if (!o.shape) usage('--shape is required');
    if (!Number.isInteger(o.warmup) || o.warmup < 0) usage('bad --warmup');
    if (!Number.isInteger(o.runs) || o.runs < 1) usage('bad --runs');
    o.model = rest[0];
    return o;
}

// Small deterministic PRNG (mulberry32) so runs are reproducible.
function mulberry32(a) {
    return function () {
        a |= 0; a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function makeInput(o) {
    const n = o.shape.reduce((a, b) => a * b, 1);
    if (o.input) {
        const buf = fs.readFileSync(o.input);
        if (buf.length !== 4 * n) {
            console.error(`ort_bench: ${o.input} has ${buf.length} bytes, shape [${o.shape}] needs ${4 * n}`);
            process.exit(2);
        }
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(4 * i);
        return data;
    }
    const rnd = mulberry32(o.seed);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rnd() * 2 - 1;
    return data;
}

function percentile(sorted, p) {
    // nearest-rank on the sorted samples
    const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[k];
}

function median(sorted) {
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const session = await ort.InferenceSession.create(o.model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
    });
    if (session.inputNames.length !== 1) {
        console.error('ort_bench: model must have exactly one input, has ' + session.inputNames.length);
        process.exit(2);
    }
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', makeInput(o), o.shape) };

    let out;
    for (let i = 0; i < o.warmup; i++) out = await session.run(feeds);
    const t = [];
    for (let i = 0; i < o.runs; i++) {
        const t0 = process.hrtime.bigint();
        out = await session.run(feeds);
        t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const sorted = t.slice().sort((a, b) => a - b);
    const res = {
        model: o.model,
        shape: o.shape,
        median_ms: +median(sorted).toFixed(4),
        p90_ms: +percentile(sorted, 90).toFixed(4),
        min_ms: +sorted[0].toFixed(4),
        mean_ms: +(t.reduce((a, b) => a + b, 0) / t.length).toFixed(4),
        runs: o.runs,
        warmup: o.warmup,
        ort_version: (ort.env.versions && ort.env.versions.node) || 'unknown',
        outputs: [],
    };
    session.outputNames.forEach((name, i) => {
        const v = out[name];
        const rec = { name, shape: Array.from(v.dims, Number) };
        if (o.outPrefix) {
            if (v.type !== 'float32') {
                console.error(`ort_bench: output ${name} is ${v.type}, not float32`);
                process.exit(2);
            }
            const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
            const file = `${o.outPrefix}${i}_${safe}.f32`;
            fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
            const d = v.data;
            fs.writeFileSync(file, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
            rec.file = file;
        }
        res.outputs.push(rec);
    });
    process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => {
    console.error('ort_bench: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
