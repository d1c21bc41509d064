// `stride serve --async-scheduling` (the next engine step planned while the current one runs)
// against the ordinary server, through the official OpenAI client: the same requests must read
// the same text, log-probs and finish reasons, streamed or not (the CPU backend is
// batch-invariant and sampling is seeded per request). Also the flag's spellings: not given, the
// CPU backend runs the synchronous loop (CUDA the asynchronous one); the ready line says which.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, MODEL, Server, sleep } from './server.mjs';

let sync;
let async_;

before(async () => {
  [sync, async_] = await Promise.all([Server.start(), Server.start(['--async-scheduling'])]);
});

after(async () => {
  assert.equal(await sync.stop(), 0);
  assert.equal(await async_.stop(), 0);
});

// The ready line comes after the engine is up, which /health may report a moment earlier.
async function readyLine(server) {
  for (let i = 0; i < 100; ++i) {
    const m = server.output().match(/stride serve: ready \(.*\)/);
    if (m) return m[0];
    await sleep(50);
  }
  throw new Error(`no ready line in: ${server.output()}`);
}

test('the ready line names the loop: synchronous by default on the CPU, asynchronous when asked', async () => {
  assert.match(await readyLine(sync), /, synchronous scheduling\)/);
  assert.match(await readyLine(async_), /, asynchronous scheduling\)/);
});

test('--async-scheduling takes auto, true or false, and says so otherwise', () => {
  const r = spawnSync(BIN, ['serve', '--async-scheduling=maybe'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--async-scheduling must be auto, true or false, not 'maybe'/);
});

// What a response says, without ids and timestamps.
function essence(r) {
  return r.choices.map((c) => ({ index: c.index, text: c.text, finish: c.finish_reason,
    logprobs: c.logprobs ?? null }));
}

async function both(params) {
  return Promise.all([sync, async_].map(async (s) => essence(
    await s.client().completions.create({ model: MODEL, ...params }))));
}

test('greedy, seeded, n = 2, penalties and log-probs read the same', async () => {
  const cases = [
    { prompt: 'The weather today', max_tokens: 24, temperature: 0, ignore_eos: true },
    { prompt: 'Once upon a time', max_tokens: 20, temperature: 0.9, top_p: 0.9, seed: 3,
      logprobs: 3, ignore_eos: true },
    { prompt: 'Count:', max_tokens: 16, temperature: 1.0, n: 2, seed: 11,
      frequency_penalty: 0.5, presence_penalty: 0.3, ignore_eos: true },
    { prompt: 'Hello', max_tokens: 12, temperature: 0, echo: true, logprobs: 1 },
  ];
  // All at once on each server, so steps batch several requests.
  const results = await Promise.all(cases.map((params) => both(params)));
  for (const [a, b] of results) assert.deepEqual(b, a);
});

test('a stop string ends both at the same place', async () => {
  const free = await sync.client().completions.create({ model: MODEL, prompt: 'Tell me',
    max_tokens: 20, temperature: 0, ignore_eos: true });
  const text = free.choices[0].text;
  assert.ok(text.length > 6);
  const stop = text.slice(3, 6);
  const [a, b] = await both({ prompt: 'Tell me', max_tokens: 20, temperature: 0,
    ignore_eos: true, stop: [stop] });
  assert.deepEqual(b, a);
  assert.equal(b[0].finish, 'stop');
});

test('a streamed chat reads the same', async () => {
  const params = { model: MODEL, messages: [{ role: 'user', content: 'Say something.' }],
    max_tokens: 16, temperature: 0.7, seed: 5, stream: true };
  const texts = await Promise.all([sync, async_].map(async (s) => {
    let text = '';
    for await (const chunk of await s.client().chat.completions.create(params)) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    return text;
  }));
  assert.equal(texts[1], texts[0]);
  assert.ok(texts[0].length > 0);
});
