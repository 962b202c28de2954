#!/usr/bin/env node
// bench/ort_golden_lm68.js - the golden output of the 68-point landmark
// network (faceplugin-face-recognition-js@0.0.1 model/fr_landmark.onnx),
// computed by ONNX Runtime, for tests/test_golden.c.
//
//   node bench/ort_golden_lm68.js FR_LANDMARK.onnx [GOLDEN_DIR]
//
// Input: the 3 real aligned 112x112 faces of GOLDEN_DIR/net/mfn_in.f32
// (default tests/data/golden; NHWC, (p - 127.5) / 128, so p = x * 128 +
// 127.5 recovers the pixels exactly); of each, the central 64x64 pixels
// (rows and columns 24..87) as grey ((0.299 R + 0.587 G) + 0.114 B) / 256,
// computed in double and stored as float32 (the test does the same), NCHW
// [1,1,64,64], run alone.
// Output: GOLDEN_DIR/net/lm68_out.f32, 3 x 136 float32 little-endian, the
// raw "output" (x0, y0, x1, y1... as fractions of the 64x64 crop).
// Session: CPU EP, one thread, graphOptimizationLevel 'all'.
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
    ort = require('onnxruntime-node');
} catch (e) {
    console.error('ort_golden_lm68: cannot load onnxruntime-node (run `npm ci --ignore-scripts` in bench/): ' + e.message);
    process.exit(2);
}

async function main() {
    const args = process.argv.slice(2);
    if (args.length < 1 || args.length > 2) {
        console.error('usage: node ort_golden_lm68.js FR_LANDMARK.onnx [GOLDEN_DIR]');
        process.exit(2);
    }
    const dir = args[1] || path.join(__dirname, '..', 'tests', 'data', 'golden');
    const S = 112, N = 3, C = 64, O = 24, D = 136;
    const raw = fs.readFileSync(path.join(dir, 'net', 'mfn_in.f32'));
    if (raw.length !== N * S * S * 3 * 4) {
        console.error(`ort_golden_lm68: mfn_in.f32 has ${raw.length} bytes, want ${N * S * S * 3 * 4}`);
        process.exit(1);
    }
    const nhwc = new Float32Array(raw.buffer, raw.byteOffset, N * S * S * 3);
    const sess = await ort.InferenceSession.create(args[0], {
        executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
        graphOptimizationLevel: 'all', executionMode: 'sequential',
    });
    const out = new Float32Array(N * D);
    for (let f = 0; f < N; f++) {
        const x = new Float32Array(C * C);
        for (let y = 0; y < C; y++)
            for (let xx = 0; xx < C; xx++) {
                const p = (f * S * S + (y + O) * S + (xx + O)) * 3;
                const px = (c) => Math.round(nhwc[p + c] * 128 + 127.5);
                x[y * C + xx] = (0.299 * px(0) + 0.587 * px(1) + 0.114 * px(2)) / 256;
            }
        const r = await sess.run({ input: new ort.Tensor('float32', x, [1, 1, C, C]) });
        const y = r[sess.outputNames[0]];
        if (y.data.length !== D) {
            console.error(`ort_golden_lm68: output has ${y.data.length} values, want ${D}`);
            process.exit(1);
        }
        out.set(y.data, f * D);
        console.error(`face ${f}: point 30 (nose tip) at ${y.data[60].toFixed(4)}, ${y.data[61].toFixed(4)}`);
    }
    const dst = path.join(dir, 'net', 'lm68_out.f32');
    fs.writeFileSync(dst, Buffer.from(out.buffer));
    console.error(`wrote ${dst} (onnxruntime-node ${require('onnxruntime-node/package.json').version})`);
}

main().catch((e) => {
    console.error('ort_golden_lm68: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
});
