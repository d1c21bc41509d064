// `stride bench` against the real `stride serve` (issue: stride bench): a short run completes
// with zero failures, and its counts agree with the server's own /metrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { BIN, MODEL, Server } from './server.mjs';

const run = promisify(execFile);
let server;

before(async () => {
  server = await Server.start();
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

// A metric's value whatever its labels (the server labels every sample with the model).
function value(metrics, name) {
  for (const [key, v] of Object.entries(metrics)) {
    if (key === name || key.startsWith(name + '{')) return v;
  }
  return undefined;
}

function successes(metrics) {
  let total = 0;
  for (const [key, value] of Object.entries(metrics)) {
    if (key.startsWith('stride:requests_total{') &&
        (key.includes('outcome="stop"') || key.includes('outcome="length"'))) {
      total += value;
    }
  }
  return total;
}

test('a short bench run has no failures and matches /metrics', async () => {
  const before = await server.metrics();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-bench-'));
  const result = path.join(dir, 'result.json');
  const report = path.join(dir, 'report.html');
  await run(BIN, [
    'bench', '--url', server.url, '--model', MODEL, '--num-prompts', '24',
    '--input-len', '32', '--output-len', '12', '--range-ratio', '0.5', '--vocab-size', '128000',
    '--request-rate', '40', '--seed', '3', '--slo', 'ttft:5000,tpot:5000',
    '--result', result, '--report', report,
  ], { timeout: 120000 });
  const r = JSON.parse(fs.readFileSync(result, 'utf8'));
  assert.equal(r.completed, 24);
  assert.equal(r.failed, 0);
  assert.ok(r.output_throughput > 0 && r.mean_ttft_ms > 0 && r.p99_itl_ms >= r.median_itl_ms);
  assert.equal(r.request_goodput > 0, true);
  assert.match(fs.readFileSync(report, 'utf8'), /<svg/);

  // The server saw exactly what bench sent: its 24 requests plus one warm-up request.
  const afterRun = await server.metrics();
  assert.equal(successes(afterRun) - successes(before), r.completed + 1);
  const generated =
      value(afterRun, 'stride:generation_tokens_total') - value(before, 'stride:generation_tokens_total');
  assert.equal(r.total_output_tokens, r.output_lens.reduce((a, b) => a + b, 0));
  assert.ok(generated >= r.total_output_tokens && generated <= r.total_output_tokens + 16,
            `server generated ${generated}, bench counted ${r.total_output_tokens} (+ warm-up)`);
  const prompt =
      value(afterRun, 'stride:prompt_tokens_total') - value(before, 'stride:prompt_tokens_total');
  assert.ok(prompt >= r.total_input_tokens && prompt <= r.total_input_tokens + 48,
            `server prompt tokens ${prompt}, bench ${r.total_input_tokens} (+ warm-up)`);
});
