// onnxruntime side of glassbox's ONNX benchmark (node, onnxruntime-node).
//
//   node bench/onnx/ort.mjs bench DIR THREADS MODELS BATCHES REPS MIN_TIME
//   node bench/onnx/ort.mjs check LIST.json
//
// bench: for each model of DIR/manifest.json (export_models.py), checks
// onnxruntime's outputs on the fixed examples against PyTorch's, then times
// InferenceSession.run at each batch size on those examples repeated to the
// batch size: the median seconds per call over REPS repetitions, each
// repeating the call until MIN_TIME seconds have passed, after two warm-up
// calls. The session runs at its best on this CPU: all graph optimisations,
// THREADS intra-op threads (glassbox's thread count), sequential execution
// with one inter-op thread.
//
// check: LIST.json is [{name, onnx, x, shape, dtype, y}] (written by
// `go run ./bench/onnx` for the models glassbox exports); each file is
// loaded and run on x, and its output compared with y (glassbox's).
//
// Both print one JSON object per line. onnxruntime-node is found in
// $GLASSBOX_ORT_DIR/node_modules (the folder `npm install --ignore-scripts
// onnxruntime-node` ran in; see bench/README.md), else next to this file.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.env.GLASSBOX_ORT_DIR || here;
const require = createRequire(path.join(base, "package.json"));
let ort;
try {
  ort = require("onnxruntime-node");
} catch (e) {
  console.error(`ort.mjs: cannot load onnxruntime-node from ${base}/node_modules: ${e.message}`);
  process.exit(3);
}

function readF32(file) {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

// tensorOf makes a [batch, ...shape] input from examples (float32 rows of
// the example size), repeated to batch rows; token ids become int64.
function tensorOf(examples, shape, dtype, batch) {
  const d = shape.reduce((a, b) => a * b, 1);
  const n = examples.length / d;
  const dims = [batch, ...shape];
  if (dtype === "int64") {
    const v = new BigInt64Array(batch * d);
    for (let i = 0; i < v.length; i++) v[i] = BigInt(Math.round(examples[i % (n * d)]));
    return new ort.Tensor("int64", v, dims);
  }
  const v = new Float32Array(batch * d);
  for (let i = 0; i < v.length; i++) v[i] = examples[i % (n * d)];
  return new ort.Tensor("float32", v, dims);
}

function maxErr(got, want) {
  let abs = 0, ref = 0;
  for (let i = 0; i < want.length; i++) {
    abs = Math.max(abs, Math.abs(got[i] - want[i]));
    ref = Math.max(ref, Math.abs(want[i]));
  }
  return { max_abs_err: abs, rel_err: abs / Math.max(ref, 1e-30) };
}

async function session(file, threads) {
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
}

async function perCall(fn, reps, minTime) {
  for (let i = 0; i < 2; i++) await fn();
  const times = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let dt;
    for (;;) {
      await fn();
      n++;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (dt >= minTime) break;
    }
    times.push(dt / n);
  }
  const s = [...times].sort((a, b) => a - b);
  return { seconds: s[Math.floor(s.length / 2)], all: times };
}

async function bench(dir, threads, names, batches, reps, minTime) {
  const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
  console.log(JSON.stringify({ info: { onnxruntime: ort.env.versions?.common ?? "?", node: process.version, intra_op_threads: threads } }));
  for (const name of names) {
    const e = manifest.models[name];
    const s = await session(path.join(dir, e.onnx), threads);
    const x = readF32(path.join(dir, e.x));
    const n = x.length / e.shape.reduce((a, b) => a * b, 1);
    const feeds = (b) => ({ [s.inputNames[0]]: tensorOf(x, e.shape, e.dtype, b) });
    const y = (await s.run(feeds(n)))[s.outputNames[0]].data;
    console.log(JSON.stringify({ model: name, check: maxErr(y, readF32(path.join(dir, e.y))) }));
    for (const b of batches) {
      const f = feeds(b);
      const r = await perCall(() => s.run(f), reps, minTime);
      console.log(JSON.stringify({ model: name, batch: b, ...r }));
    }
    await s.release?.();
  }
}

async function check(list) {
  for (const e of JSON.parse(readFileSync(list, "utf8"))) {
    const out = { model: e.name };
    try {
      const s = await session(e.onnx, 1);
      const x = readF32(e.x);
      const n = x.length / e.shape.reduce((a, b) => a * b, 1);
      const y = (await s.run({ [s.inputNames[0]]: tensorOf(x, e.shape, e.dtype, n) }))[s.outputNames[0]].data;
      Object.assign(out, { ok: true }, maxErr(y, readF32(e.y)));
    } catch (err) {
      Object.assign(out, { ok: false, error: String(err.message ?? err).split("\n")[0] });
    }
    console.log(JSON.stringify(out));
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "bench" && args.length === 6) {
  await bench(args[0], +args[1], args[2].split(","), args[3].split(",").map(Number), +args[4], +args[5]);
} else if (mode === "check" && args.length === 1) {
  await check(args[0]);
} else {
  console.error("usage: node ort.mjs bench DIR THREADS MODELS BATCHES REPS MIN_TIME | check LIST.json");
  process.exit(2);
}
