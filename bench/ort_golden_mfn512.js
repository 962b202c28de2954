#!/usr/bin/env node
// bench/ort_golden_mfn512.js - the golden output of the 512-d MobileFaceNet
// (faceplugin-face-recognition-js@0.0.1 model/fr_feature.onnx), computed by
// ONNX Runtime, for tests/test_golden.c.
//
//   node bench/ort_golden_mfn512.js FR_FEATURE.onnx [GOLDEN_DIR]
//
// Input: the 3 real aligned 112x112 faces of GOLDEN_DIR/net/mfn_in.f32
// (default tests/data/golden; NHWC, normalised for the 192-d network as
// (p - 127.5) / 128, so p = x * 128 + 127.5 recovers the pixels exactly).
// Each face is normalised as lib/fr_feature.js does, (p - 127) / 128,
// transposed to NCHW [1,3,112,112] and run alone (the file's batch is 1).
// Output: GOLDEN_DIR/net/mfn512_out.f32, 3 x 512 float32 little-endian,
// the raw "output" (not L2-normalised).  The input is not written again:
// the test derives it from mfn_in.f32 the same way.
// Session: CPU EP, one thread, graphOptimizationLevel 'all'.
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
    ort = require('onnxruntime-node');
} catch (e) {
    console.error('ort_golden_mfn512: cannot load onnxruntime-node (run `npm ci --ignore-scripts` in bench/): ' + e.message);
    process.exit(2);
}

async function main() {
    const args = process.argv.slice(2);
    if (args.length < 1 || args.length > 2) {
        console.error('usage: node ort_golden_mfn512.js FR_FEATURE.onnx [GOLDEN_DIR]');
        process.exit(2);
    }
    const dir = args[1] || path.join(__dirname, '..', 'tests', 'data', 'golden');
    const S = 112, N = 3, D = 512;
    const raw = fs.readFileSync(path.join(dir, 'net', 'mfn_in.f32'));
    if (raw.length !== N * S * S * 3 * 4) {
        console.error(`ort_golden_mfn512: mfn_in.f32 has ${raw.length} bytes, want ${N * S * S * 3 * 4}`);
        process.exit(1);
    }
    const nhwc = new Float32Array(raw.buffer, raw.byteOffset, N * S * S * 3);
    const sess = await ort.InferenceSession.create(args[0], {
        executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
        graphOptimizationLevel: 'all', executionMode: 'sequential',
    });
    const out = new Float32Array(N * D);
    for (let f = 0; f < N; f++) {
        const x = new Float32Array(3 * S * S);
        for (let p = 0; p < S * S; p++)
            for (let c = 0; c < 3; c++) {
                const px = Math.round(nhwc[(f * S * S + p) * 3 + c] * 128 + 127.5);
                x[c * S * S + p] = (px - 127) / 128;
            }
        const r = await sess.run({ input: new ort.Tensor('float32', x, [1, 3, S, S]) });
        const y = r[sess.outputNames[0]];
        if (y.data.length !== D) {
            console.error(`ort_golden_mfn512: output has ${y.data.length} values, want ${D}`);
            process.exit(1);
        }
        out.set(y.data, f * D);
        let ss = 0;
        for (let k = 0; k < D; k++) ss += y.data[k] * y.data[k];
        console.error(`face ${f}: |output| = ${Math.sqrt(ss).toFixed(4)}`);
    }
    const dst = path.join(dir, 'net', 'mfn512_out.f32');
    fs.writeFileSync(dst, Buffer.from(out.buffer));
    console.error(`wrote ${dst} (onnxruntime-node ${require('onnxruntime-node/package.json').version})`);
}

main().catch((e) => {
    console.error('ort_golden_mfn512: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
});
