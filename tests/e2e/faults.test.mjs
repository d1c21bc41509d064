// Faults: clients that disconnect (queued, mid-prefill, mid-decode, n > 1, 200 at once; with the
// ordinary and the asynchronous engine loop) get their engine requests aborted and their KV
// blocks freed without changing other clients' outputs;
// SIGTERM drains in-flight requests while new ones get 503, then the server exits 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODEL, Server, sleep } from './server.mjs';

const C = '/v1/completions';

// Starts a streaming completion and resolves once `minEvents` SSE events arrived.
async function openStream(server, body, minEvents = 2) {
  const controller = new AbortController();
  const response = await fetch(`${server.url}${C}`, { method: 'POST', signal: controller.signal,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let text = '';
  while ((text.match(/data: /g) ?? []).length < minEvents) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  return { abort: () => controller.abort(), text };
}

function abortAfter(server, body, ms) {
  const controller = new AbortController();
  const done = fetch(`${server.url}${C}`, { method: 'POST', signal: controller.signal,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => 'aborted');
  return sleep(ms).then(() => controller.abort()).then(() => done);
}

// The same with asynchronous scheduling, where an aborted request may still have a step in flight.
for (const extra of [[], ['--async-scheduling']]) {
  describe(`disconnects${extra.length ? ' (async scheduling)' : ''}`, () => {
    let server;
    let baseline;
    before(async () => {
      server = await Server.start(extra);
      baseline = await server.metric('stride:kv_free_blocks');
    });
    after(async () => { assert.equal(await server.stop(), 0); });

    test('disconnects mid-prefill, mid-decode and with n > 1 leave other outputs unchanged', async () => {
      const reference = { model: MODEL, prompt: 'A steady reference request', max_tokens: 24,
        temperature: 0.7, seed: 11, ignore_eos: true };
      const client = server.client();
      const expected = (await client.completions.create(reference)).choices[0].text;
      const abortedBefore = await server.metric('stride:requests_total{model_name="tiny",outcome="aborted"}');

      const running = client.completions.create(reference);
      const long = { model: MODEL, prompt: 'disrupt', max_tokens: 200, ignore_eos: true };
      const streams = await Promise.all([
        openStream(server, long),
        openStream(server, { ...long, n: 4 }, 5),
        openStream(server, { ...long, logprobs: 5 }),
      ]);
      const midPrefill = abortAfter(server, { ...long, prompt: Array(200).fill(1234) }, 1);
      const midDecode = abortAfter(server, long, 30);
      for (const s of streams) s.abort();
      await Promise.all([midPrefill, midDecode]);
      assert.equal((await running).choices[0].text, expected);
      await server.waitKvBaseline(baseline);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      const abortedAfter = await server.metric('stride:requests_total{model_name="tiny",outcome="aborted"}');
      assert.ok(abortedAfter - abortedBefore >= 4, `aborted ${abortedBefore} -> ${abortedAfter}`);
    });

    test('200 clients disconnect mid-stream; the next request completes in under 5 s', async () => {
      const long = { model: MODEL, prompt: 'many clients', max_tokens: 200, ignore_eos: true };
      const streams = await Promise.all(Array.from({ length: 200 }, () => openStream(server, long)));
      for (const s of streams) s.abort();
      const start = Date.now();
      const r = await server.client().completions.create({ model: MODEL, prompt: 'after the storm',
        max_tokens: 16, ignore_eos: true });
      const elapsed = Date.now() - start;
      assert.equal(r.usage.completion_tokens, 16);
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      await server.waitKvBaseline(baseline);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
    });
  });
}

describe('queued disconnects', () => {
  let server;
  let baseline;
  before(async () => {
    server = await Server.start(['--max-num-seqs', '1']);
    baseline = await server.metric('stride:kv_free_blocks');
  });
  after(async () => { assert.equal(await server.stop(), 0); });

  test('a client that leaves while queued frees its place', async () => {
    const running = await openStream(server, { model: MODEL, prompt: 'x', max_tokens: 200,
      ignore_eos: true });
    const queued = abortAfter(server, { model: MODEL, prompt: 'queued', max_tokens: 5 }, 50);
    let waiting = 0;
    for (let i = 0; i < 100 && waiting < 1; ++i) {
      waiting = await server.metric('stride:num_requests_waiting');
      if (waiting < 1) await sleep(2);
    }
    assert.equal(waiting, 1);
    await queued;
    for (let i = 0; i < 100 && waiting > 0; ++i) {
      waiting = await server.metric('stride:num_requests_waiting');
      if (waiting > 0) await sleep(5);
    }
    assert.equal(waiting, 0, 'the aborted request left the queue while another still runs');
    assert.equal(await server.metric('stride:num_requests_running'), 1);
    running.abort();
    await server.waitKvBaseline(baseline);
  });
});

test('SIGTERM drains in-flight requests, answers new ones with 503, then exits 0', async () => {
  const server = await Server.start(['--max-model-len', '2048', '--shutdown-timeout', '30']);
  const response = await fetch(`${server.url}${C}`, { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'drain me', max_tokens: 1500, ignore_eos: true,
      stream: true, stream_options: { include_usage: true } }) });
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let text = Buffer.from((await reader.read()).value).toString();
  server.child.kill('SIGTERM');
  let health = 200;
  for (let i = 0; i < 100 && health === 200; ++i) {
    health = (await fetch(`${server.url}/health`)).status;
    if (health === 200) await sleep(5);
  }
  assert.equal(health, 503);
  const rejected = await server.post(C, { model: MODEL, prompt: 'late', max_tokens: 2 });
  assert.equal(rejected.status, 503);
  assert.equal((await rejected.json()).error.type, 'service_unavailable_error');
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(JSON.parse(events.at(-2)).usage.completion_tokens, 1500);
  const [code] = await server.exited;
  assert.equal(code, 0);
  assert.match(server.output(), /draining 1 request/);
});
