#!/usr/bin/env node
// bench/ort_face.js - ONNX Runtime peer of build/bench_face: replays the
// network calls bench_face recorded (--workload) and times them, one thread.
//
//   node bench/ort_face.js WORKLOAD.json
//        --rfb 'DIR/rfb_orig_1x3x{H}x{W}.onnx' [--rfb-layout nchw|nhwc]
//        --onet 'DIR/onet_{N}x48x48x3.onnx'
//        --mfn 'DIR/mobilefacenet_{N}x112x112x3.onnx'
//        [--mfn512 'DIR/mfn512_{N}x112x112x3.onnx'] [--lm68 'DIR/lm68_{N}x64x64x1.onnx']
//        [--passes 15] [--warmup 2]
//        [--clock wall|cpu]
//
// {H}, {W} and {N} in the paths are replaced by the working size and the
// batch size of each call; every model named by the workload must exist
// (bench/run.sh exports them).  For each frame of each size the workload
// gives the RFB input (1 x H x W), the O-Net batches (the RFB candidates
// after NMS) and the MobileFaceNet batches (the faces embedded), and the
// stages are replayed as bench_face times them:
//   detect = RFB + O-Net batches, embed = MobileFaceNet batches,
//   chain = both;
// one pass = all frames of that size, W warm-up passes, then P timed passes,
// median pass reported, photos/s and faces/s as in bench_face.
//
// Two optional frame fields (build/bench_pipeline's workloads): "mfn512",
// the batches of the 512-d MobileFaceNet (the fused704 model set's second
// embedder; replayed after "mfn" in embed, needs --mfn512), "lm68", the
// batches of the 68-point landmark network (model set fused704v3; replayed
// first in embed, as the pipeline runs it before the embedders, needs
// --lm68), and "count": the
// frame stands for that many analysed frames with exactly these calls.
// When a size has counts, each frame of a pass is timed on its own and the
// pass time is the sum of count x frame time (photos/s and faces/s count
// every frame it stands for); "weighted": true in the output.
// --clock cpu times with the process's CPU time (process.cpuUsage: user +
// system, all threads; ORT runs one intra-op thread) instead of the wall
// clock, for comparison with CPU times taken on a loaded machine, where
// wall clock also counts the time spent waiting for a core.
//
// NETWORKS ONLY: ORT gets inputs prepared before timing (fixed pseudo-random
// float32 tensors, one per shape) and does no resizing, normalisation, box
// decoding, NMS, O-Net crops, alignment warps or L2 normalisation, all of
// which bench_face's time includes.  That favours ORT.  Each shape has its
// own session created before timing (ORT never re-plans), and the time is
// wall clock around session.run (the Node binding's per-call overhead, tens
// of microseconds, is included).
// Session: CPU EP, intraOpNumThreads 1, interOpNumThreads 1,
// graphOptimizationLevel 'all', executionMode 'sequential'.
// Prints one JSON object on stdout.
'use strict';

const fs = require('fs');

let ort;
try {
    ort = require('onnxruntime-node');
} catch (e) {
    console.error('ort_face: cannot load onnxruntime-node (run `npm ci --ignore-scripts` in bench/): ' + e.message);
    process.exit(2);
}

function usage(msg) {
    if (msg) console.error('ort_face: ' + msg);
    console.error("usage: node ort_face.js WORKLOAD.json --rfb PATTERN [--rfb-layout nchw|nhwc] " +
        '--onet PATTERN --mfn PATTERN [--mfn512 PATTERN] [--lm68 PATTERN] [--passes P] [--warmup W] ' +
        '[--clock wall|cpu]');
    process.exit(2);
}

function parseArgs(argv) {
    const o = { passes: 15, warmup: 2, rfbLayout: 'nchw', clock: 'wall' };
    const rest = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const val = () => {
            if (i + 1 >= argv.length) usage(a + ' needs a value');
            return argv[++i];
        };
        if (a === '--rfb') o.rfb = val();
        else if (a === '--rfb-layout') o.rfbLayout = val();
        else if (a === '--onet') o.onet = val();
        else if (a === '--mfn') o.mfn = val();
        else if (a === '--mfn512') o.mfn512 = val();
        else if (a === '--lm68') o.lm68 = val();
        else if (a === '--clock') o.clock = val();
        else if (a === '--passes') o.passes = Number(val());
        else if (a === '--warmup') o.warmup = Number(val());
        else if (a === '-h' || a === '--help') usage();
        else if (a.startsWith('--')) usage('unknown option ' + a);
        else rest.push(a);
    }
    if (rest.length !== 1) usage('need exactly one WORKLOAD.json');
    if (!o.rfb || !o.onet || !o.mfn) usage('--rfb, --onet and --mfn are required');
    if (o.rfbLayout !== 'nchw' && o.rfbLayout !== 'nhwc') usage('bad --rfb-layout ' + o.rfbLayout);
    if (!Number.isInteger(o.passes) || o.passes < 1) usage('bad --passes');
    if (o.clock !== 'wall' && o.clock !== 'cpu') usage('bad --clock ' + o.clock);
    if (!Number.isInteger(o.warmup) || o.warmup < 0) usage('bad --warmup');
    o.workload = rest[0];
    return o;
}

function mulberry32(a) {
    return function () {
        a |= 0; a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function fill(pattern, v) {
    return pattern.replace(/\{H\}/g, v.H).replace(/\{W\}/g, v.W).replace(/\{N\}/g, v.N);
}

function median(sorted) {
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

function posInt(x) {
    return Number.isInteger(x) && x > 0;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    let wl;
    try {
        wl = JSON.parse(fs.readFileSync(o.workload, 'utf8'));
    } catch (e) {
        console.error(`ort_face: cannot read workload ${o.workload}: ${e.message}`);
        process.exit(2);
    }
    if (!wl || !Array.isArray(wl.sizes) || !wl.sizes.length) {
        console.error(`ort_face: ${o.workload}: no "sizes"`);
        process.exit(2);
    }

    const opts = {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
    };
    const sessions = new Map(); // path -> {session, feeds}
    let seed = 1;
    async function call(path, shape) {
        if (sessions.has(path)) return sessions.get(path);
        if (!fs.existsSync(path)) throw new Error(`${path} not found (bench/run.sh exports it)`);
        const session = await ort.InferenceSession.create(path, opts);
        if (session.inputNames.length !== 1) throw new Error(`${path}: expected one input`);
        const n = shape.reduce((a, b) => a * b, 1);
        const rnd = mulberry32(seed++);
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = rnd() * 2 - 1;
        const s = { session, feeds: { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) } };
        sessions.set(path, s);
        return s;
    }

    // Resolve every call of every frame to a session before timing.
    const plan = [];
    for (const sz of wl.sizes) {
        if (!posInt(sz.w) || !posInt(sz.h) || !Array.isArray(sz.frames) || !sz.frames.length)
            throw new Error(`${o.workload}: bad size entry ${JSON.stringify(sz)}`);
        const frames = [];
        let faces = 0, onetInputs = 0, count = 0;
        const weighted = sz.frames.some((f) => f.count !== undefined);
        for (const f of sz.frames) {
            const r = f.rfb;
            const bad = () => new Error(`${o.workload}: bad frame ${JSON.stringify(f)}`);
            const m512 = f.mfn512 === undefined ? [] : f.mfn512;
            const lm = f.lm68 === undefined ? [] : f.lm68;
            const k = f.count === undefined ? 1 : f.count;
            if (!Array.isArray(r) || r.length !== 4 || !r.every(posInt) || r[0] !== 1 ||
                !Array.isArray(f.onet) || !f.onet.every(posInt) ||
                !Array.isArray(f.mfn) || !f.mfn.every(posInt) ||
                !Array.isArray(m512) || !m512.every(posInt) || !Array.isArray(lm) ||
                !lm.every(posInt) || !posInt(k)) throw bad();
            if (m512.length && !o.mfn512) throw new Error(`${o.workload}: frames with "mfn512" need --mfn512`);
            if (lm.length && !o.lm68) throw new Error(`${o.workload}: frames with "lm68" need --lm68`);
            const [, H, W, C] = r;
            const rshape = o.rfbLayout === 'nchw' ? [1, C, H, W] : [1, H, W, C];
            const det = [await call(fill(o.rfb, { H, W, N: 1 }), rshape)];
            for (const N of f.onet) det.push(await call(fill(o.onet, { H: 48, W: 48, N }), [N, 48, 48, 3]));
            const emb = [];
            for (const N of lm) emb.push(await call(fill(o.lm68, { H: 64, W: 64, N }), [N, 64, 64, 1]));
            for (const N of f.mfn) emb.push(await call(fill(o.mfn, { H: 112, W: 112, N }), [N, 112, 112, 3]));
            for (const N of m512) emb.push(await call(fill(o.mfn512, { H: 112, W: 112, N }), [N, 112, 112, 3]));
            faces += k * f.mfn.reduce((a, b) => a + b, 0);
            onetInputs += k * f.onet.reduce((a, b) => a + b, 0);
            count += k;
            frames.push({ det, emb, count: k });
        }
        plan.push({ w: sz.w, h: sz.h, frames, faces, onetInputs, count, weighted });
    }

    async function pass(frames, stage) {
        for (const f of frames) {
            if (stage !== 'embed') for (const s of f.det) await s.session.run(s.feeds);
            if (stage !== 'detect') for (const s of f.emb) await s.session.run(s.feeds);
        }
    }
    // the clock, in ms: wall or this process's CPU time
    const now = o.clock === 'cpu'
        ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; }
        : () => Number(process.hrtime.bigint()) / 1e6;
    // weighted: each frame timed on its own, sum of count x time (ms)
    async function weightedPass(frames, stage) {
        let ms = 0;
        for (const f of frames) {
            const t0 = now();
            await pass([f], stage);
            ms += f.count * (now() - t0);
        }
        return ms;
    }

    const res = {
        ort_version: (ort.env.versions && ort.env.versions.node) || 'unknown',
        passes: o.passes, warmup: o.warmup, networks_only: true, clock: o.clock, sizes: [],
    };
    for (const p of plan) {
        const out = { w: p.w, h: p.h, frames: p.count, faces: p.faces, onet_inputs: p.onetInputs };
        if (p.weighted) {
            out.weighted = true;
            out.distinct_frames = p.frames.length;
        }
        for (const stage of ['detect', 'embed', 'chain']) {
            for (let k = 0; k < o.warmup; k++) await pass(p.frames, stage);
            const t = [];
            for (let k = 0; k < o.passes; k++) {
                if (p.weighted) {
                    t.push(await weightedPass(p.frames, stage));
                    continue;
                }
                const t0 = now();
                await pass(p.frames, stage);
                t.push(now() - t0);
            }
            t.sort((a, b) => a - b);
            const med = median(t);
            const k90 = Math.min(t.length - 1, Math.max(0, Math.ceil(0.9 * t.length) - 1));
            out[stage] = {
                median_ms: +med.toFixed(4), p90_ms: +t[k90].toFixed(4), min_ms: +t[0].toFixed(4),
                photos_per_s: +(p.count / (med / 1e3)).toFixed(3),
                faces_per_s: +(p.faces / (med / 1e3)).toFixed(3),
            };
            console.error(`ort_face: ${p.w}x${p.h} ${stage.padEnd(6)} median ${med.toFixed(2)} ms / ` +
                `${p.count} frames: ${out[stage].photos_per_s} photos/s, ${out[stage].faces_per_s} faces/s`);
        }
        res.sizes.push(out);
    }
    process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => {
    console.error('ort_face: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
